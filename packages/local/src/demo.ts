import { ScenarioPack } from "@backing/contracts";
import {
  DEFAULT_RISK_PARAMS,
  DEFAULT_SCENARIO_PACK,
  type NotificationType,
  parsePortfolio,
  type StressSummaryRow,
  stressReport,
  stressSummaryRow,
} from "@backing/core";
import { connect, createTable, DynamoEngineStore } from "@backing/dynamo";
import { cachedStore, expireCalls, processPriceEvents, runExposureJob } from "@backing/engine";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { demoBook } from "./demo-book.ts";
import { type DynamoLocal, startDynamoLocal } from "./dynamo-local.ts";
import { SCENARIOS } from "./scenarios/ftx-2022.ts";

export interface DemoOptions {
  accounts: number;
  scenario: string;
  /** An existing DynamoDB (BACKING_DYNAMODB_ENDPOINT); otherwise DynamoDB Local is started. */
  endpoint?: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (message: string, done: number, total: number) => void;
  /** Wall clock, for elapsedMs only (the engine itself runs on event time). */
  clock?: () => number;
  /** Where the reports go (default `out`). */
  outDir?: string;
}

export interface DemoSummary {
  scenario: string;
  accounts: number;
  ticks: number;
  accountsEvaluated: number;
  transitions: number;
  notifications: Partial<Record<NotificationType, number>>;
  skippedStale: number;
  invalidAccounts: number;
  /** The shipped stress pack over the book at the replay's last prices (no reverse stress here). */
  stress: StressSummaryRow[];
  /** Where the exposure report of the book at the replay's last prices was written. */
  reports: { exposureHtml: string; exposureJson: string };
  elapsedMs: number;
}

/**
 * Implied volatilities for marking options during the replay (Black-76). FTX week levels from
 * reference §1.4: stressed BTC IV 80–130, ETH ≈ BTC + 10–25 vols (+60 at the peak).
 */
const DEMO_VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const scenario = SCENARIOS[options.scenario];
  if (!scenario)
    throw new Error(`unknown scenario "${options.scenario}" (known: ${Object.keys(SCENARIOS).join(", ")})`);
  const path = scenario.path();
  const first = path[0];
  if (!first) throw new Error("empty scenario path");

  const local: DynamoLocal | undefined = options.endpoint ? undefined : await startDynamoLocal();
  const endpoint = options.endpoint ?? (local as DynamoLocal).endpoint;
  try {
    const { client, documents } = connect({ endpoint });
    const tableName = `backing-demo-${started}`;
    await createTable(client, tableName);
    const store = cachedStore(new DynamoEngineStore(documents, tableName));

    const book = demoBook({
      accounts: options.accounts,
      prices: first.prices,
      futureExpiry: "2022-12-30T08:00:00Z",
      optionExpiry: "2022-11-25T08:00:00Z",
    });
    const SEED_CHUNK = 500;
    for (let i = 0; i < book.length; i += SEED_CHUNK) {
      await store.putAccounts(book.slice(i, i + SEED_CHUNK));
      options.progress?.("seeding", Math.min(i + SEED_CHUNK, book.length), book.length);
    }

    const summary: DemoSummary = {
      scenario: options.scenario,
      accounts: book.length,
      ticks: 0,
      accountsEvaluated: 0,
      transitions: 0,
      notifications: {},
      skippedStale: 0,
      invalidAccounts: 0,
      stress: [],
      reports: { exposureHtml: "", exposureJson: "" },
      elapsedMs: 0,
    };
    const count = (type: NotificationType, n: number) => {
      summary.notifications[type] = (summary.notifications[type] ?? 0) + n;
    };
    for (const [tick, point] of path.entries()) {
      const now = Date.parse(point.timestamp);
      const deps = { store, now: () => now, volatility: DEMO_VOLATILITY };
      const events = Object.entries(point.prices).map(([asset, index]) => ({
        eventId: `${options.scenario}:${asset}:${point.timestamp}`,
        asset,
        index,
        timestamp: point.timestamp,
        source: `replay:${options.scenario}`,
      }));
      const { recompute } = await processPriceEvents(events, deps);
      summary.ticks++;
      summary.accountsEvaluated += recompute.evaluated;
      summary.transitions += recompute.written;
      summary.skippedStale += recompute.skippedStale;
      summary.invalidAccounts = Math.max(summary.invalidAccounts, recompute.invalid.length);
      for (const [type, n] of Object.entries(recompute.notifications)) count(type as NotificationType, n);
      const expired = await expireCalls(deps);
      if (expired > 0) count("margin.call.expired", expired);
      options.progress?.("replaying", tick + 1, path.length);
    }
    const last = path[path.length - 1] ?? first;
    options.progress?.("stress", 0, 1);
    const portfolio = parsePortfolio(
      {
        asOf: last.timestamp,
        prices: Object.fromEntries(Object.entries(last.prices).map(([asset, index]) => [asset, { index }])),
        volatility: DEMO_VOLATILITY,
        accounts: book,
      },
      (await store.getParams()) ?? DEFAULT_RISK_PARAMS,
    );
    const report = stressReport(portfolio, ScenarioPack.parse(DEFAULT_SCENARIO_PACK), { reverse: false });
    summary.stress = report.scenarios.map(stressSummaryRow);
    options.progress?.("stress", 1, 1);
    // The scheduled exposure job, once, over the stored book: the HTML a risk manager opens.
    const exposure = await runExposureJob(
      {
        store,
        now: () => Date.parse(last.timestamp),
        volatility: DEMO_VOLATILITY,
        reports: folderReportStore(options.outDir ?? "out"),
        rendering: exposureRendering,
      },
      { onProgress: (done) => options.progress?.("exposure report", done, book.length) },
    );
    summary.reports = {
      exposureHtml: exposure.locations["exposure.html"] ?? "",
      exposureJson: exposure.locations["exposure.json"] ?? "",
    };
    summary.elapsedMs = clock() - started;
    return summary;
  } finally {
    await local?.stop();
  }
}
