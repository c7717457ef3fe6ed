import { createHash } from "node:crypto";
import { ScenarioPack, type ScenarioPack as ScenarioPackType } from "@backing/contracts";
import {
  DEFAULT_SCENARIO_PACK,
  Decimal,
  ScenarioRunner,
  StressAggregator,
  type StressSummaryRow,
  stressSettings,
  stressSummaryRow,
} from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import { reportReadyNotifications } from "./notifications.ts";
import type { ReportStore } from "./ports/index.ts";
import { parseBooks } from "./recompute/load.ts";
import { snapshotOf } from "./recompute/snapshot.ts";

export interface StressJobDeps extends EngineDeps {
  reports: ReportStore;
}

export interface StressJobOptions {
  pack?: unknown;
  /** Accounts per page read from the store: the job holds one page plus the failing accounts. */
  pageSize?: number;
}

export interface StressJobResult {
  reportId: string;
  location: string;
  accounts: number;
  scenarios: StressSummaryRow[];
  notifications: number;
}

/**
 * The scheduled stress test over the stored book (DESIGN §3.8): every scenario of the pack runs as
 * passes over the accounts, read a page at a time, so memory holds one page and the accounts that
 * fail, never the book. The full report (the JSON of `backing stress`, accounts streamed) goes to
 * the report store; its summary to the table; a `report.stress.ready` outbox item per venue.
 * Reverse stress needs ~16 more full runs per scenario, so the scheduled job leaves it to
 * `backing stress` (reverseSeverity is null and the report says `"reverseComputed": false`).
 * The report id derives from the prices, params and pack, so a re-run is idempotent.
 */
export async function runStressJob(
  deps: StressJobDeps,
  options: StressJobOptions = {},
): Promise<StressJobResult> {
  const pack: ScenarioPackType = ScenarioPack.parse(options.pack ?? DEFAULT_SCENARIO_PACK);
  const pageSize = options.pageSize ?? 500;
  const nowMs = deps.now();
  const params = await currentParams(deps.store);
  const settings = stressSettings(params);
  const snapshot = snapshotOf(await deps.store.getPrices());
  const volatility = deps.volatility ?? {};
  const { market } = parseBooks([], snapshot, nowMs, params, volatility);
  const asOf = new Date(nowMs).toISOString();
  const reportId = `stress_${createHash("sha256")
    .update(JSON.stringify([snapshot.id, params.version, pack.id, pack.version, asOf]))
    .digest("hex")
    .slice(0, 24)}`;
  const venues = new Set<string>();
  let accounts = 0;
  const scenarios: StressJobResult["scenarios"] = [];

  const pages = async function* () {
    for await (const page of deps.store.scanAccounts(pageSize)) {
      yield parseBooks(page, snapshot, nowMs, params, volatility).books;
    }
  };

  async function* body(): AsyncIterable<string> {
    yield `{\n"asOf": ${JSON.stringify(asOf)},\n"paramsVersion": ${JSON.stringify(params.version)},\n"pack": ${JSON.stringify(pack.id)},\n"reverseComputed": false,\n"scenarios": [`;
    for (const [index, scenario] of pack.scenarios.entries()) {
      const runner = new ScenarioRunner(market, params, scenario, new Decimal(1), settings);
      while (!runner.final) {
        for await (const books of pages()) runner.pass(books);
        runner.endPass();
      }
      const aggregator = new StressAggregator();
      yield `${index === 0 ? "" : ","}\n{ "id": ${JSON.stringify(scenario.id)}, "accounts": [`;
      let first = true;
      for await (const books of pages()) {
        if (index === 0) {
          accounts += books.length;
          for (const book of books) venues.add(book.venue);
        }
        const rows = runner.pass(books).map((o) => JSON.stringify(aggregator.add(o)));
        if (rows.length > 0) {
          yield `${first ? "\n" : ",\n"}${rows.join(",\n")}`;
          first = false;
        }
      }
      runner.endPass();
      const aggregates = { ...aggregator.aggregates(settings, runner.cascade), reverseSeverity: null };
      yield `],\n${JSON.stringify(aggregates).slice(1, -1)} }`;
      scenarios.push(stressSummaryRow({ id: scenario.id, ...aggregates }));
    }
    yield "\n]\n}\n";
  }

  const location = await deps.reports.write("stress", reportId, body());
  const summary = { pack: pack.id, paramsVersion: params.version, accounts, scenarios };
  await deps.store.putReportSummary({
    kind: "stress",
    id: reportId,
    asOf,
    createdAtMs: nowMs,
    location,
    summary,
  });
  const notifications = reportReadyNotifications("report.stress.ready", reportId, venues, {
    asOf,
    createdAtMs: nowMs,
    location,
    summary,
  });
  await deps.store.putNotifications(notifications);
  return { reportId, location, accounts, scenarios, notifications: notifications.length };
}
