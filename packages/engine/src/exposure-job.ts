import { createHash } from "node:crypto";
import type { ExposureReport } from "@backing/contracts";
import { type ExposureAccountRow, ExposureAggregator, type PreviousReport } from "@backing/core";
import { currentParams, type EngineDeps, parseBooks, snapshotOf } from "./jobs.ts";
import { reportReadyNotifications } from "./notifications.ts";
import type { ReportStore } from "./ports.ts";

/** How the report and its account table become files (the CSV and HTML renderers of @backing/reports). */
export interface ExposureRendering {
  /** File name → content: the report's JSON, CSV tables and HTML page. */
  files(report: ExposureReport): Record<string, string>;
  accountsHeader: string;
  accountRows(rows: readonly ExposureAccountRow[]): string;
  /** Reads a previous report's accounts table back. */
  parseAccounts(text: string): PreviousReport["accounts"];
}

export interface ExposureJobDeps extends EngineDeps {
  reports: ReportStore;
  rendering: ExposureRendering;
}

export interface ExposureJobOptions {
  /** Accounts per page read from the store: the job holds one page and fixed-size aggregates. */
  pageSize?: number;
  onProgress?: (accounts: number) => void;
}

export interface ExposureJobResult {
  reportId: string;
  /** File name → where it was stored. */
  locations: Record<string, string>;
  accounts: number;
  invalidAccounts: number;
  notifications: number;
  report: ExposureReport;
}

export const ACCOUNTS_FILE = "accounts.csv";

/**
 * The scheduled exposure report over the stored book (DESIGN §3.9): pages through the accounts
 * (bounded memory: one page, the aggregates, and the previous report's status and equity per
 * account for "changes since previous"), streams the accounts table to the report store as it
 * goes, then stores the JSON, CSV tables and HTML, the summary in the table, and a
 * `report.exposure.ready` outbox item per venue. The previous report is the latest stored one;
 * the report id derives from the prices, params and time, so a re-run is idempotent.
 */
export async function runExposureJob(
  deps: ExposureJobDeps,
  options: ExposureJobOptions = {},
): Promise<ExposureJobResult> {
  const pageSize = options.pageSize ?? 500;
  const nowMs = deps.now();
  const asOf = new Date(nowMs).toISOString();
  const params = await currentParams(deps.store);
  const snapshot = snapshotOf(await deps.store.getPrices());
  const volatility = deps.volatility ?? {};
  const { market } = parseBooks([], snapshot, nowMs, params, volatility);
  const reportId = `exposure_${createHash("sha256")
    .update(JSON.stringify([snapshot.id, params.version, asOf]))
    .digest("hex")
    .slice(0, 24)}`;

  const previousSummary = await deps.store.latestReportSummary("exposure");
  let previous: PreviousReport | null = null;
  if (previousSummary && previousSummary.id !== reportId) {
    const text = await deps.reports.read("exposure", previousSummary.id, ACCOUNTS_FILE);
    if (text !== null)
      previous = { asOf: previousSummary.asOf, accounts: deps.rendering.parseAccounts(text) };
  }

  const aggregator = new ExposureAggregator(market, params, previous);
  const venues = new Set<string>();
  let accounts = 0;
  let invalidAccounts = 0;
  async function* accountTable(): AsyncIterable<string> {
    yield deps.rendering.accountsHeader;
    for await (const page of deps.store.scanAccounts(pageSize)) {
      const { books, invalid } = parseBooks(page, snapshot, nowMs, params, volatility);
      invalidAccounts += invalid.length;
      for (const book of books) venues.add(book.venue);
      accounts += books.length;
      yield deps.rendering.accountRows(aggregator.add(books));
      options.onProgress?.(accounts);
    }
  }
  const locations: Record<string, string> = {};
  locations[ACCOUNTS_FILE] = await deps.reports.write("exposure", reportId, accountTable(), ACCOUNTS_FILE);
  const report = aggregator.report(asOf);
  for (const [name, content] of Object.entries(deps.rendering.files(report))) {
    locations[name] = await deps.reports.write("exposure", reportId, [content], name);
  }

  const summary = {
    paramsVersion: params.version,
    accounts,
    invalidAccounts,
    accountsByStatus: report.accountsByStatus,
    totals: report.totals,
    cascadeWarnings: Object.fromEntries(
      Object.entries(report.assets).flatMap(([asset, a]) =>
        a.cascadeWarnings.length ? [[asset, a.cascadeWarnings]] : [],
      ),
    ),
    files: locations,
  };
  await deps.store.putReportSummary({
    kind: "exposure",
    id: reportId,
    asOf,
    createdAtMs: nowMs,
    location: locations["exposure.json"] ?? locations[ACCOUNTS_FILE] ?? "",
    summary,
  });
  const notifications = reportReadyNotifications("report.exposure.ready", reportId, venues, {
    asOf,
    createdAtMs: nowMs,
    location: locations["exposure.html"] ?? locations["exposure.json"] ?? "",
    summary,
  });
  await deps.store.putNotifications(notifications);
  return { reportId, locations, accounts, invalidAccounts, notifications: notifications.length, report };
}
