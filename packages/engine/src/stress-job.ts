import { ScenarioPack } from "@backing/contracts";
import {
  type CascadeState,
  DEFAULT_SCENARIO_PACK,
  ONE,
  ScenarioCascade,
  ScenarioShard,
  type ShardPassReport,
  type ShardState,
  type StressAggregatePartial,
  StressAggregator,
  type StressSummaryRow,
  stressSettings,
  stressSummaryRow,
} from "@backing/core";
import { reportReadyNotifications } from "./notifications.ts";
import type { JobRun } from "./ports/index.ts";
import { parseBooks } from "./recompute/load.ts";
import {
  type JobStart,
  type JobTaskQueue,
  type PinnedInputs,
  pinInputs,
  pinnedMarket,
  readJson,
  readRunFile,
  runFile,
  runInline,
  type ShardedJob,
  type ShardedJobDeps,
  startShardedJob,
  writeJson,
} from "./sharded-jobs.ts";

export type StressJobDeps = ShardedJobDeps;

export interface StressJobOptions {
  pack?: unknown;
  /** Accounts per page read from the store: the job holds one page plus the failing accounts. */
  pageSize?: number;
  /** Segments of the book, each a task per pass (one worker's share); the report does not depend on it. */
  segments?: number;
  onProgress?: (accounts: number) => void;
}

export interface StressJobResult {
  reportId: string;
  location: string;
  accounts: number;
  scenarios: StressSummaryRow[];
  notifications: number;
}

/** What the coordinator pins for every worker of one stress run. */
interface StressInputs extends PinnedInputs {
  pack: ScenarioPack;
}

/** The cascades as the reduce of the last pass left them: what every segment evaluates at next. */
interface SharedState {
  scenarios: { state: CascadeState; reported: boolean; aggregate: StressAggregatePartial | null }[];
  accounts: number;
  venues: string[];
}

/** One segment's pass: per scenario still running, its report and its shard's state. */
interface SegmentPass {
  scenarios: ({
    report: ShardPassReport;
    state: ShardState;
    aggregate: StressAggregatePartial | null;
  } | null)[];
  accounts: number;
  venues: string[];
}

const sharedFile = (pass: number) => `cascade-${pass}.json`;
const segmentFile = (pass: number, segment: number) => `pass-${pass}-segment-${segment}.json`;
/** A scenario's account rows from one segment, as they go into the report's array. */
const rowsFile = (scenario: number, segment: number) => `rows-${scenario}-segment-${segment}.txt`;

function contextOf(run: JobRun) {
  const inputs = run.inputs as unknown as StressInputs;
  const { params, market, depth } = pinnedMarket(inputs);
  const settings = stressSettings(params, depth);
  const cascadeOf = (scenario: number, state: CascadeState | undefined) =>
    new ScenarioCascade(market, params, inputs.pack.scenarios[scenario] as never, ONE, settings, state);
  return { inputs, params, settings, cascadeOf };
}

const sharedAt = (deps: StressJobDeps, run: JobRun, pass: number) =>
  pass === 0 ? Promise.resolve(null) : readJson<SharedState>(deps.reports, run, sharedFile(pass));

/**
 * The scheduled stress test over the stored book (DESIGN §3.8), as a sharded job. Each pass, every
 * segment evaluates its accounts under every scenario still running, at its cascade's current
 * prices (memory: one page plus the segment's failing accounts), and reports its failures' forced
 * flow; the reduce moves each cascade a round on or, once nobody new fails, runs its final pass,
 * in which the segments write their account rows and aggregates. When every scenario is reported
 * the reduce writes the report (the JSON of `backing stress`), its summary to the table and a
 * `report.stress.ready` outbox item per venue. Reverse stress needs ~16 more full runs per
 * scenario, so the scheduled job leaves it to `backing stress` (reverseSeverity is null and the
 * report says `"reverseComputed": false`).
 */
export const stressJob: ShardedJob<StressJobDeps, StressJobResult> = {
  async map(deps, run, task, onProgress) {
    const { inputs, params, cascadeOf } = contextOf(run);
    const shared = await sharedAt(deps, run, task.pass);
    const previous =
      task.pass === 0
        ? null
        : await readJson<SegmentPass>(deps.reports, run, segmentFile(task.pass - 1, task.segment));
    const running = inputs.pack.scenarios.map((_, i) => {
      const scenario = shared?.scenarios[i];
      if (scenario?.reported) return null;
      const cascade = cascadeOf(i, scenario?.state);
      const shard = new ScenarioShard(cascade, previous?.scenarios[i]?.state);
      return {
        cascade,
        shard,
        rows: [] as string[],
        aggregator: cascade.final ? new StressAggregator() : null,
      };
    });
    const venues = new Set<string>();
    let accounts = 0;
    const segment = { index: task.segment, count: task.segments };
    for await (const page of deps.store.scanAccounts(inputs.pageSize, segment)) {
      const { books } = parseBooks(page, inputs.snapshot, inputs.nowMs, params, inputs.volatility);
      accounts += books.length;
      for (const book of books) venues.add(book.venue);
      for (const scenario of running) {
        if (!scenario) continue;
        const outcomes = scenario.shard.pass(books);
        const { aggregator } = scenario;
        if (aggregator) scenario.rows.push(...outcomes.map((o) => JSON.stringify(aggregator.add(o))));
      }
      onProgress?.(accounts);
    }
    for (const [i, scenario] of running.entries())
      if (scenario?.aggregator)
        await deps.reports.write(
          "stress",
          run.reportId,
          [scenario.rows.join(",\n")],
          runFile(run, rowsFile(i, task.segment)),
        );
    const result: SegmentPass = {
      scenarios: running.map((scenario) =>
        scenario
          ? {
              report: scenario.shard.endPass(),
              state: scenario.shard.state(),
              aggregate: scenario.aggregator?.partial() ?? null,
            }
          : null,
      ),
      accounts,
      venues: [...venues].sort(),
    };
    await writeJson(deps.reports, run, segmentFile(task.pass, task.segment), result);
  },

  async reduce(deps, run, pass) {
    const { inputs, params, settings, cascadeOf } = contextOf(run);
    const shared = await sharedAt(deps, run, pass);
    const segments: SegmentPass[] = [];
    for (let segment = 0; segment < run.segments; segment++)
      segments.push(await readJson<SegmentPass>(deps.reports, run, segmentFile(pass, segment)));
    const next: SharedState = {
      scenarios: inputs.pack.scenarios.map((_, i) => {
        const before = shared?.scenarios[i];
        if (before?.reported) return before;
        const cascade = cascadeOf(i, before?.state);
        const wasFinal = cascade.final;
        const reports = segments.map((s) => s.scenarios[i]?.report as ShardPassReport);
        cascade.endPass(reports);
        if (!wasFinal) return { state: cascade.state(), reported: false, aggregate: null };
        const aggregator = new StressAggregator();
        for (const s of segments) aggregator.merge(s.scenarios[i]?.aggregate as StressAggregatePartial);
        return { state: cascade.state(), reported: true, aggregate: aggregator.partial() };
      }),
      accounts: shared?.accounts ?? segments.reduce((n, s) => n + s.accounts, 0),
      venues: shared?.venues ?? [...new Set(segments.flatMap((s) => s.venues))].sort(),
    };
    if (next.scenarios.some((s) => !s.reported)) {
      await writeJson(deps.reports, run, sharedFile(pass + 1), next);
      return { nextPass: true };
    }

    const scenarios: StressSummaryRow[] = [];
    const rowsOf = async (scenario: number) => {
      const parts: string[] = [];
      for (let segment = 0; segment < run.segments; segment++) {
        const rows = await readRunFile(deps.reports, run, rowsFile(scenario, segment));
        if (rows.length > 0) parts.push(rows);
      }
      return parts.join(",\n");
    };
    async function* body(): AsyncIterable<string> {
      yield `{\n"asOf": ${JSON.stringify(inputs.asOf)},\n"paramsVersion": ${JSON.stringify(params.version)},\n"pack": ${JSON.stringify(inputs.pack.id)},\n"reverseComputed": false,\n"scenarios": [`;
      for (const [i, scenario] of inputs.pack.scenarios.entries()) {
        const done = next.scenarios[i] as SharedState["scenarios"][number];
        const aggregator = new StressAggregator();
        aggregator.merge(done.aggregate as StressAggregatePartial);
        const rows = await rowsOf(i);
        yield `${i === 0 ? "" : ","}\n{ "id": ${JSON.stringify(scenario.id)}, "accounts": [${rows ? `\n${rows}` : ""}`;
        const aggregates = {
          ...aggregator.aggregates(settings, cascadeOf(i, done.state)),
          reverseSeverity: null,
        };
        yield `],\n${JSON.stringify(aggregates).slice(1, -1)} }`;
        scenarios.push(stressSummaryRow({ id: scenario.id, ...aggregates }));
      }
      yield "\n]\n}\n";
    }
    const location = await deps.reports.write("stress", run.reportId, body());
    const summary = {
      pack: inputs.pack.id,
      paramsVersion: params.version,
      accounts: next.accounts,
      scenarios,
    };
    const report = { asOf: inputs.asOf, createdAtMs: inputs.nowMs, location, summary };
    await deps.store.putReportSummary({ kind: "stress", id: run.reportId, ...report });
    const notifications = reportReadyNotifications("report.stress.ready", run.reportId, next.venues, report);
    await deps.store.putNotifications(notifications);
    return {
      result: {
        reportId: run.reportId,
        location,
        accounts: next.accounts,
        scenarios,
        notifications: notifications.length,
      },
    };
  },
};

/**
 * The coordinator: pins the prices, params, time and pack, and sends the first pass's tasks. The
 * report id derives from the prices, params, pack and time, so a repeated start writes the same report.
 */
export async function startStressJob(
  deps: StressJobDeps,
  queue: JobTaskQueue,
  options: StressJobOptions = {},
): Promise<JobStart> {
  const pack = ScenarioPack.parse(options.pack ?? DEFAULT_SCENARIO_PACK);
  const { reportId, pinned } = await pinInputs(deps, "stress", options, [pack.id, pack.version]);
  const inputs: StressInputs = { ...pinned, pack };
  return startShardedJob(deps, queue, {
    kind: "stress",
    reportId,
    segments: options.segments ?? 1,
    inputs: inputs as unknown as Record<string, unknown>,
  });
}

/** The stress pack in this process: the sharded job with its tasks run as they are sent. */
export async function runStressJob(
  deps: StressJobDeps,
  options: StressJobOptions = {},
): Promise<StressJobResult> {
  return runInline(deps, stressJob, (queue) => startStressJob(deps, queue, options), options.onProgress);
}
