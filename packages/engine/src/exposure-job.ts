import { createHash } from "node:crypto";
import type { ExposureReport } from "@backing/contracts";
import { type ExposureAccountRow, ExposureAggregator, type PreviousReport } from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import { reportReadyNotifications } from "./notifications.ts";
import type { ReportStore } from "./ports/index.ts";
import { parseBooks } from "./recompute/load.ts";
import { snapshotOf } from "./recompute/snapshot.ts";

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
 * Where a venue's own exposure report files go inside the report: `venues/<slug>/<name>`. The slug
 * keeps the venue id's safe characters and adds a hash, so no venue id can name another path.
 */
export function venueReportFile(venue: string, name: string): string {
  const slug = venue.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);
  const hash = createHash("sha256").update(venue).digest("hex").slice(0, 8);
  return `venues/${slug}-${hash}/${name}`;
}

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

  // One evaluation per account feeds the book's aggregator and its venue's: each venue gets a
  // report of its own accounts only (what its webhook points at and its API key can read).
  const aggregator = new ExposureAggregator(market, params, previous);
  const byVenue = new Map<string, ExposureAggregator>();
  let accounts = 0;
  let invalidAccounts = 0;
  const invalidByVenue = new Map<string, number>();
  async function* accountTable(): AsyncIterable<string> {
    yield deps.rendering.accountsHeader;
    for await (const page of deps.store.scanAccounts(pageSize)) {
      const { books, invalid } = parseBooks(page, snapshot, nowMs, params, volatility);
      invalidAccounts += invalid.length;
      const venueOf = new Map(page.map((a) => [a.id, a.venue]));
      for (const { accountId } of invalid) {
        const venue = venueOf.get(accountId) as string;
        invalidByVenue.set(venue, (invalidByVenue.get(venue) ?? 0) + 1);
      }
      accounts += books.length;
      const rows = books.map((book) => {
        const evaluation = aggregator.evaluate(book);
        let venue = byVenue.get(book.venue);
        if (!venue) {
          venue = new ExposureAggregator(market, params, previous);
          byVenue.set(book.venue, venue);
        }
        venue.addEvaluated(book, evaluation);
        return aggregator.addEvaluated(book, evaluation);
      });
      yield deps.rendering.accountRows(rows);
      options.onProgress?.(accounts);
    }
  }
  const locations: Record<string, string> = {};
  locations[ACCOUNTS_FILE] = await deps.reports.write("exposure", reportId, accountTable(), ACCOUNTS_FILE);
  const report = aggregator.report(asOf);
  for (const [name, content] of Object.entries(deps.rendering.files(report))) {
    locations[name] = await deps.reports.write("exposure", reportId, [content], name);
  }
  const venueReports = new Map<string, { report: ExposureReport; locations: Record<string, string> }>();
  for (const [venue, venueAggregator] of [...byVenue].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const venueReport = venueAggregator.report(asOf);
    const venueLocations: Record<string, string> = {};
    for (const [name, content] of Object.entries(deps.rendering.files(venueReport)))
      venueLocations[name] = await deps.reports.write(
        "exposure",
        reportId,
        [content],
        venueReportFile(venue, name),
      );
    venueReports.set(venue, { report: venueReport, locations: venueLocations });
  }

  const summaryOf = (of: ExposureReport, files: Record<string, string>, invalid: number) => ({
    paramsVersion: params.version,
    accounts: of.accounts,
    invalidAccounts: invalid,
    accountsByStatus: of.accountsByStatus,
    totals: of.totals,
    cascadeWarnings: Object.fromEntries(
      Object.entries(of.assets).flatMap(([asset, a]) =>
        a.cascadeWarnings.length ? [[asset, a.cascadeWarnings]] : [],
      ),
    ),
    files,
  });
  const summary = { ...summaryOf(report, locations, invalidAccounts), accounts };
  await deps.store.putReportSummary({
    kind: "exposure",
    id: reportId,
    asOf,
    createdAtMs: nowMs,
    location: locations["exposure.json"] ?? locations[ACCOUNTS_FILE] ?? "",
    summary,
  });
  const notifications = [...venueReports].flatMap(([venue, { report: venueReport, locations: files }]) =>
    reportReadyNotifications("report.exposure.ready", reportId, [venue], {
      asOf,
      createdAtMs: nowMs,
      location: files["exposure.html"] ?? files["exposure.json"] ?? "",
      summary: summaryOf(venueReport, files, invalidByVenue.get(venue) ?? 0),
    }),
  );
  await deps.store.putNotifications(notifications);
  return { reportId, locations, accounts, invalidAccounts, notifications: notifications.length, report };
}
