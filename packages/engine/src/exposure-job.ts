import { createHash } from "node:crypto";
import type { ExposureReport } from "@backing/contracts";
import {
  Decimal,
  type ExposureAccountRow,
  ExposureAggregator,
  type ExposurePartial,
  type PreviousReport,
} from "@backing/core";
import { reportReadyNotifications } from "./notifications.ts";
import type { JobRun, UnwatchedAccount } from "./ports/index.ts";
import { parseBooks } from "./recompute/load.ts";
import {
  type JobStart,
  type JobTaskQueue,
  type PinnedInputs,
  pinInputs,
  pinnedMarket,
  readJson,
  runInline,
  type ShardedJob,
  type ShardedJobDeps,
  startShardedJob,
  writeJson,
} from "./sharded-jobs.ts";

/** How the report and its account table become files (the CSV and HTML renderers of @backing/reports). */
export interface ExposureRendering {
  /** File name → content: the report's JSON, CSV tables and HTML page. */
  files(report: ExposureReport): Record<string, string>;
  accountsHeader: string;
  accountRows(rows: readonly ExposureAccountRow[]): string;
  /** Reads a previous report's accounts table back. */
  parseAccounts(text: string): PreviousReport["accounts"];
  /** The unwatched accounts as a table (`unwatched.csv`). */
  unwatchedTable(marks: readonly UnwatchedAccount[]): string;
}

/** The pinned latest funding rates, as the aggregator takes them (null: the report knows none). */
function fundingRatesOf(inputs: PinnedInputs): ReadonlyMap<string, ReadonlyMap<string, Decimal>> | null {
  if (!inputs.fundingRates) return null;
  return new Map(
    Object.entries(inputs.fundingRates).map(([venue, rates]) => [
      venue,
      new Map(Object.entries(rates).map(([asset, rate]) => [asset, new Decimal(rate)])),
    ]),
  );
}

/** The table of the accounts no call can be made on, as the last sweep marked them. */
export const UNWATCHED_FILE = "unwatched.csv";

export interface ExposureJobDeps extends ShardedJobDeps {
  rendering: ExposureRendering;
}

export interface ExposureJobOptions {
  /** Accounts per page read from the store: the job holds one page and fixed-size aggregates. */
  pageSize?: number;
  /** Segments of the book, each a task (one worker's share); the report does not depend on it. */
  segments?: number;
  onProgress?: (accounts: number) => void;
  /** The bad debt past the fund the ADL exposure assumes; default: from the latest stored stress report. */
  adlDeficit?: string;
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

/** What the coordinator pins for every worker of one exposure report. */
interface ExposureInputs extends PinnedInputs {
  /** The report "changes since" compares with, and how many segments its accounts table was written in. */
  previous: { id: string; asOf: string; segments: number | null } | null;
  /** The largest bad debt past the insurance fund of the latest stress report's scenarios (ADL exposure). */
  adlDeficit?: string | null;
}

/**
 * From a stress report's summary rows: the largest shortfall of the fund, max(0, −insuranceFundAfter)
 * over the scenarios (null without a stress report, "0" when the fund covers every scenario).
 */
export function adlDeficitOf(summary: Record<string, unknown> | undefined): string | null {
  const rows = summary?.scenarios;
  if (!Array.isArray(rows)) return null;
  let worst = new Decimal(0);
  for (const row of rows as { insuranceFundAfter?: string }[])
    if (row.insuranceFundAfter) worst = Decimal.max(worst, new Decimal(row.insuranceFundAfter).negated());
  return worst.toFixed();
}

/** A segment's share of the report: the book's aggregates and each venue's. */
interface ExposureSegmentPartial {
  accounts: number;
  invalidAccounts: number;
  invalidByVenue: Record<string, number>;
  book: ExposurePartial;
  venues: Record<string, ExposurePartial>;
}

/** A segment's part of the accounts table, kept for the next report's segment of the same share. */
const accountsPart = (segment: number, segments: number) => `shards/accounts-${segment}-of-${segments}.csv`;
const partialFile = (segment: number) => `partial-${segment}.json`;

const inputsOf = (run: JobRun) => run.inputs as unknown as ExposureInputs;

/**
 * The previous report's accounts for one segment: its part of the accounts table when it was
 * written in as many segments (the same share of the book), else the whole table.
 */
async function previousFor(
  deps: ExposureJobDeps,
  inputs: ExposureInputs,
  segment: number,
  segments: number,
): Promise<PreviousReport | null> {
  const { previous } = inputs;
  if (!previous) return null;
  const text =
    (previous.segments === segments
      ? await deps.reports.read("exposure", previous.id, accountsPart(segment, segments))
      : null) ?? (await deps.reports.read("exposure", previous.id, ACCOUNTS_FILE));
  return text === null ? null : { asOf: previous.asOf, accounts: deps.rendering.parseAccounts(text) };
}

/**
 * The scheduled exposure report over the stored book (DESIGN §3.9), as a sharded job: each segment
 * pages through its accounts (bounded memory: one page, the aggregates, and the previous report's
 * status and equity per account of the segment for "changes since previous"), streams its part of
 * the accounts table, and stores its partial aggregates; the reduce merges them (exactly) and
 * stores the JSON, CSV tables and HTML, the whole accounts table, the summary in the table, and a
 * `report.exposure.ready` outbox item per venue.
 */
export const exposureJob: ShardedJob<ExposureJobDeps, ExposureJobResult> = {
  async map(deps, run, task, onProgress) {
    const inputs = inputsOf(run);
    const { params, market, depth } = pinnedMarket(inputs);
    const previous = await previousFor(deps, inputs, task.segment, task.segments);
    const rates = fundingRatesOf(inputs);
    const newAggregator = () => new ExposureAggregator(market, params, previous, rates, depth);
    // One evaluation per account feeds the book's aggregator and its venue's: each venue gets a
    // report of its own accounts only (what its webhook points at and its API key can read).
    const aggregator = newAggregator();
    const byVenue = new Map<string, ExposureAggregator>();
    const partial: ExposureSegmentPartial = {
      accounts: 0,
      invalidAccounts: 0,
      invalidByVenue: {},
      book: aggregator.partial(),
      venues: {},
    };
    const segment = { index: task.segment, count: task.segments };
    async function* accountTable(): AsyncIterable<string> {
      yield deps.rendering.accountsHeader;
      for await (const page of deps.store.scanAccounts(inputs.pageSize, segment)) {
        const { books, invalid } = parseBooks(page, inputs.snapshot, inputs.nowMs, params, inputs.volatility);
        partial.invalidAccounts += invalid.length;
        const venueOf = new Map(page.map((a) => [a.id, a.venue]));
        for (const { accountId } of invalid) {
          const venue = venueOf.get(accountId) as string;
          partial.invalidByVenue[venue] = (partial.invalidByVenue[venue] ?? 0) + 1;
        }
        partial.accounts += books.length;
        const rows = books.map((book) => {
          const evaluation = aggregator.evaluate(book);
          let venue = byVenue.get(book.venue);
          if (!venue) {
            venue = newAggregator();
            byVenue.set(book.venue, venue);
          }
          venue.addEvaluated(book, evaluation);
          return aggregator.addEvaluated(book, evaluation);
        });
        yield deps.rendering.accountRows(rows);
        onProgress?.(partial.accounts);
      }
    }
    await deps.reports.write(
      "exposure",
      run.reportId,
      accountTable(),
      accountsPart(task.segment, task.segments),
    );
    partial.book = aggregator.partial();
    partial.venues = Object.fromEntries([...byVenue].map(([venue, a]) => [venue, a.partial()]));
    await writeJson(deps.reports, run, partialFile(task.segment), partial);
  },

  async reduce(deps, run) {
    const inputs = inputsOf(run);
    const { params, market, depth } = pinnedMarket(inputs);
    const { asOf, nowMs } = inputs;
    // Merging needs the previous report only for its presence ("changes" or null): the per-account
    // comparisons were made by the segments.
    const previous: PreviousReport | null = inputs.previous
      ? { asOf: inputs.previous.asOf, accounts: new Map() }
      : null;
    const rates = fundingRatesOf(inputs);
    const newAggregator = () => new ExposureAggregator(market, params, previous, rates, depth);
    const aggregator = newAggregator();
    const byVenue = new Map<string, ExposureAggregator>();
    let accounts = 0;
    let invalidAccounts = 0;
    const invalidByVenue = new Map<string, number>();
    for (let segment = 0; segment < run.segments; segment++) {
      const partial = await readJson<ExposureSegmentPartial>(deps.reports, run, partialFile(segment));
      accounts += partial.accounts;
      invalidAccounts += partial.invalidAccounts;
      for (const [venue, n] of Object.entries(partial.invalidByVenue))
        invalidByVenue.set(venue, (invalidByVenue.get(venue) ?? 0) + n);
      aggregator.merge(partial.book);
      for (const [venue, venuePartial] of Object.entries(partial.venues)) {
        let venueAggregator = byVenue.get(venue);
        if (!venueAggregator) {
          venueAggregator = newAggregator();
          byVenue.set(venue, venueAggregator);
        }
        venueAggregator.merge(venuePartial);
      }
    }

    const locations: Record<string, string> = {};
    const header = deps.rendering.accountsHeader;
    async function* wholeTable(): AsyncIterable<string> {
      yield header;
      for (let segment = 0; segment < run.segments; segment++) {
        const part = await deps.reports.read("exposure", run.reportId, accountsPart(segment, run.segments));
        if (part === null)
          throw new Error(`exposure run ${run.id}: segment ${segment}'s accounts are missing`);
        yield part.slice(header.length);
      }
    }
    locations[ACCOUNTS_FILE] = await deps.reports.write(
      "exposure",
      run.reportId,
      wholeTable(),
      ACCOUNTS_FILE,
    );
    const deficit = inputs.adlDeficit ? new Decimal(inputs.adlDeficit) : null;
    const report = aggregator.report(asOf, deficit);
    for (const [name, content] of Object.entries(deps.rendering.files(report))) {
      locations[name] = await deps.reports.write("exposure", run.reportId, [content], name);
    }
    const unwatched = await deps.store.listUnwatched();
    locations[UNWATCHED_FILE] = await deps.reports.write(
      "exposure",
      run.reportId,
      [deps.rendering.unwatchedTable(unwatched)],
      UNWATCHED_FILE,
    );
    const venueReports = new Map<string, { report: ExposureReport; locations: Record<string, string> }>();
    for (const [venue, venueAggregator] of [...byVenue].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const venueReport = venueAggregator.report(asOf, deficit);
      const venueLocations: Record<string, string> = {};
      for (const [name, content] of Object.entries(deps.rendering.files(venueReport)))
        venueLocations[name] = await deps.reports.write(
          "exposure",
          run.reportId,
          [content],
          venueReportFile(venue, name),
        );
      const venueMarks = unwatched.filter((m) => m.venue === venue);
      venueLocations[UNWATCHED_FILE] = await deps.reports.write(
        "exposure",
        run.reportId,
        [deps.rendering.unwatchedTable(venueMarks)],
        venueReportFile(venue, UNWATCHED_FILE),
      );
      venueReports.set(venue, { report: venueReport, locations: venueLocations });
    }

    const summaryOf = (
      of: ExposureReport,
      files: Record<string, string>,
      invalid: number,
      unwatchedAccounts: number,
    ) => ({
      paramsVersion: params.version,
      accounts: of.accounts,
      invalidAccounts: invalid,
      unwatchedAccounts,
      accountsByStatus: of.accountsByStatus,
      totals: of.totals,
      cascadeWarnings: Object.fromEntries(
        Object.entries(of.assets).flatMap(([asset, a]) =>
          a.cascadeWarnings.length ? [[asset, a.cascadeWarnings]] : [],
        ),
      ),
      files,
    });
    const summary = {
      ...summaryOf(report, locations, invalidAccounts, unwatched.length),
      accounts,
      segments: run.segments,
    };
    await deps.store.putReportSummary({
      kind: "exposure",
      id: run.reportId,
      asOf,
      createdAtMs: nowMs,
      location: locations["exposure.json"] ?? locations[ACCOUNTS_FILE] ?? "",
      summary,
    });
    const notifications = [...venueReports].flatMap(([venue, { report: venueReport, locations: files }]) =>
      reportReadyNotifications("report.exposure.ready", run.reportId, [venue], {
        asOf,
        createdAtMs: nowMs,
        location: files["exposure.html"] ?? files["exposure.json"] ?? "",
        summary: summaryOf(
          venueReport,
          files,
          invalidByVenue.get(venue) ?? 0,
          unwatched.filter((m) => m.venue === venue).length,
        ),
      }),
    );
    await deps.store.putNotifications(notifications);
    return {
      result: {
        reportId: run.reportId,
        locations,
        accounts,
        invalidAccounts,
        notifications: notifications.length,
        report,
      },
    };
  },
};

/**
 * The coordinator: pins the prices, params and time, and sends one task per segment. The report
 * id derives from the prices, params and time, so a repeated start is the same run.
 */
export async function startExposureJob(
  deps: ExposureJobDeps,
  queue: JobTaskQueue,
  options: ExposureJobOptions = {},
): Promise<JobStart> {
  const { reportId, pinned } = await pinInputs(deps, "exposure", options);
  const [latest, stress] = await Promise.all([
    deps.store.latestReportSummary("exposure"),
    deps.store.latestReportSummary("stress"),
  ]);
  const segmentsOf = (summary: Record<string, unknown>) =>
    typeof summary.segments === "number" ? summary.segments : null;
  const inputs: ExposureInputs = {
    ...pinned,
    previous:
      latest && latest.id !== reportId
        ? { id: latest.id, asOf: latest.asOf, segments: segmentsOf(latest.summary) }
        : null,
    adlDeficit: options.adlDeficit ?? adlDeficitOf(stress?.summary),
  };
  return startShardedJob(deps, queue, {
    kind: "exposure",
    reportId,
    segments: options.segments ?? 1,
    inputs: inputs as unknown as Record<string, unknown>,
  });
}

/** The exposure report in this process: the sharded job with its tasks run as they are sent. */
export async function runExposureJob(
  deps: ExposureJobDeps,
  options: ExposureJobOptions = {},
): Promise<ExposureJobResult> {
  return runInline(deps, exposureJob, (queue) => startExposureJob(deps, queue, options), options.onProgress);
}
