/**
 * Whole-book jobs as map/reduce over segments of the book (DESIGN §4.1). A coordinator pins what
 * every worker must see alike (prices, params, time) in a run and sends one task per segment to a
 * queue (SQS in AWS; in process or on worker threads locally). A worker runs its segment's pass and
 * stores its partial result in the report store, then reports to the run's barrier; the worker
 * whose report completes the pass runs the reduce: it either starts the next pass (a stress
 * cascade's next round) or assembles the report. Partials merge exactly, so the report is the one a
 * single process writes. A failed task is retried by the queue: its partial is rewritten with the
 * same content and its report counts once, so the book is never reported with a segment missing.
 */
import { createHash, randomUUID } from "node:crypto";
import { JobTask, type PortfolioDepth, type RiskParamsDocument } from "@backing/contracts";
import { buildRiskParams, depthBooks } from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import type { JobKind, JobRun, JobRunRepository, PriceSnapshot, ReportStore } from "./ports/index.ts";
import { parseBooks } from "./recompute/load.ts";
import { snapshotOf } from "./recompute/snapshot.ts";

/** Segments of a sharded job on AWS by default: one per account shard of the table. */
export const SHARDED_JOB_SEGMENTS = 16;

export interface JobTaskQueue {
  send(tasks: readonly JobTask[]): Promise<void>;
}

export interface ShardedJobDeps extends EngineDeps {
  store: EngineDeps["store"] & JobRunRepository;
  reports: ReportStore;
}

/** What a job kind does with a segment's pass and with a completed pass. */
export interface ShardedJob<Deps extends ShardedJobDeps, Result> {
  /** The map: one segment's pass, its partial written to the report store (same content on a retry). */
  map(deps: Deps, run: JobRun, task: JobTask, onProgress?: (accounts: number) => void): Promise<void>;
  /** The reduce of a completed pass: another pass, or the finished report (idempotent writes). */
  reduce(deps: Deps, run: JobRun, pass: number): Promise<{ nextPass: true } | { result: Result }>;
}

export const tasksOf = (run: JobRun, pass: number): JobTask[] =>
  Array.from({ length: run.segments }, (_, segment) => ({
    job: run.kind,
    runId: run.id,
    pass,
    segment,
    segments: run.segments,
  }));

export type JobTaskOutcome<Result> =
  | { state: "mapped" }
  | { state: "next-pass"; pass: number }
  | { state: "finished"; result: Result }
  /** A retry of a pass the run has moved past, or of a finished run. */
  | { state: "ignored" };

/** A worker: one task of a sharded job. Throws on bad input (a poison message goes to the DLQ). */
export async function runShardedTask<Deps extends ShardedJobDeps, Result>(
  deps: Deps,
  job: ShardedJob<Deps, Result>,
  queue: JobTaskQueue,
  body: unknown,
  onProgress?: (accounts: number) => void,
): Promise<JobTaskOutcome<Result>> {
  const task = JobTask.parse(body);
  if (task.segment >= task.segments)
    throw new Error(`segment ${task.segment} of ${task.segments} does not exist`);
  const run = await deps.store.getJobRun(task.runId);
  if (!run) throw new Error(`no ${task.job} run ${task.runId}`);
  if (run.kind !== task.job || run.segments !== task.segments)
    throw new Error(`task ${JSON.stringify(task)} does not match run ${run.id}`);
  if (run.finishedAtMs !== null || task.pass < run.pass) return { state: "ignored" };
  await job.map(deps, run, task, onProgress);
  const reported = await deps.store.reportJobSegment(run.id, task.pass, task.segment);
  if (reported < run.segments) return { state: "mapped" };
  const reduced = await job.reduce(deps, run, task.pass);
  if ("nextPass" in reduced) {
    const pass = task.pass + 1;
    // Sent before the run moves on: a crash in between leaves the tasks sent (a second reducer
    // racing this one may send them twice; a segment's pass is idempotent).
    await queue.send(tasksOf(run, pass));
    await deps.store.advanceJobRun(run.id, { pass });
    return { state: "next-pass", pass };
  }
  if (!(await deps.store.advanceJobRun(run.id, { finishedAtMs: deps.now() }))) return { state: "ignored" };
  return { state: "finished", result: reduced.result };
}

export interface JobStart {
  runId: string;
  reportId: string;
  segments: number;
}

/** The coordinator: records the run with its pinned inputs and sends the first pass's tasks. */
export async function startShardedJob(
  deps: ShardedJobDeps,
  queue: JobTaskQueue,
  run: { kind: JobKind; reportId: string; segments: number; inputs: Record<string, unknown> },
): Promise<JobStart> {
  const id = `${run.reportId}_${randomUUID().slice(0, 8)}`;
  const record: JobRun = { ...run, id, startedAtMs: deps.now(), pass: 0, finishedAtMs: null };
  if (!(await deps.store.createJobRun(record))) throw new Error(`job run ${id} exists already`);
  await queue.send(tasksOf(record, 0));
  return { runId: id, reportId: run.reportId, segments: run.segments };
}

/**
 * Runs a job's tasks in this process as they are sent, and keeps the finished result: the sharded
 * job without a queue (the CLI, the local runtime, a deployment without the job queue).
 */
export function inlineJobQueue<Deps extends ShardedJobDeps, Result>(
  deps: Deps,
  job: ShardedJob<Deps, Result>,
  onProgress?: (accounts: number) => void,
): JobTaskQueue & { result(): Result | undefined } {
  let result: Result | undefined;
  const queue = {
    async send(tasks: readonly JobTask[]) {
      for (const task of tasks) {
        const outcome = await runShardedTask(deps, job, queue, task, onProgress);
        if (outcome.state === "finished") result = outcome.result;
      }
    },
    result: () => result,
  };
  return queue;
}

/** What every worker of a run must see alike, pinned by its coordinator. */
export interface PinnedInputs {
  asOf: string;
  nowMs: number;
  params: RiskParamsDocument;
  snapshot: PriceSnapshot;
  volatility: Record<string, string>;
  /** The latest funding rate per venue and asset (the exposure report's funding flow); absent: none. */
  fundingRates?: Record<string, Record<string, string>>;
  /** Accounts per page read from the store: a worker holds one page and fixed-size aggregates. */
  pageSize: number;
  /** The latest order-book snapshot per asset (DESIGN §3.11); absent: none stored. */
  depth?: PortfolioDepth;
}

/**
 * The coordinator's reads: the time, the current params and the latest prices, and the report's
 * id, derived from them (and `identity`, what else names the report), so a re-run is the same report.
 */
export async function pinInputs(
  deps: EngineDeps,
  kind: JobKind,
  options: { pageSize?: number | undefined },
  identity: readonly unknown[] = [],
): Promise<{ reportId: string; pinned: PinnedInputs }> {
  const nowMs = deps.now();
  const asOf = new Date(nowMs).toISOString();
  const params = await currentParams(deps.store);
  const [funding, depth] = await Promise.all([deps.store.getFunding(), deps.store.getDepth()]);
  const snapshot = snapshotOf(await deps.store.getPrices(), funding);
  const fundingRates: Record<string, Record<string, string>> = {};
  for (const f of funding)
    if (f.rate !== undefined) fundingRates[f.venue] = { ...fundingRates[f.venue], [f.asset]: f.rate };
  const reportId = `${kind}_${createHash("sha256")
    .update(JSON.stringify([snapshot.id, params.version, ...identity, asOf]))
    .digest("hex")
    .slice(0, 24)}`;
  return {
    reportId,
    pinned: {
      asOf,
      nowMs,
      params: params.document,
      snapshot,
      volatility: deps.volatility ?? {},
      ...(funding.length > 0 ? { fundingRates } : {}),
      ...(depth.length > 0 ? { depth: Object.fromEntries(depth.map((d) => [d.asset, d])) } : {}),
      pageSize: options.pageSize ?? 500,
    },
  };
}

/** The params, the market and the depth books of a run's pinned inputs. */
export function pinnedMarket(inputs: PinnedInputs) {
  const params = buildRiskParams(inputs.params);
  const { market } = parseBooks([], inputs.snapshot, inputs.nowMs, params, inputs.volatility);
  return { params, market, depth: depthBooks(inputs.depth ?? {}) };
}

/** A job in this process: its coordinator's tasks run as they are sent; resolves with the report. */
export async function runInline<Deps extends ShardedJobDeps, Result>(
  deps: Deps,
  job: ShardedJob<Deps, Result>,
  start: (queue: JobTaskQueue) => Promise<JobStart>,
  onProgress?: (accounts: number) => void,
): Promise<Result> {
  const queue = inlineJobQueue(deps, job, onProgress);
  const started = await start(queue);
  const result = queue.result();
  if (!result) throw new Error(`job run ${started.runId} did not finish`);
  return result;
}

/** A run's partials live beside the report they build: `<kind>/<report id>/shards/<run id>/…`. */
export const runFile = (run: JobRun, name: string) => `shards/${run.id}/${name}`;

export async function readRunFile(reports: ReportStore, run: JobRun, name: string): Promise<string> {
  const text = await reports.read(run.kind, run.reportId, runFile(run, name));
  if (text === null) throw new Error(`${run.kind} run ${run.id}: ${name} is missing`);
  return text;
}

export async function readJson<T>(reports: ReportStore, run: JobRun, name: string): Promise<T> {
  return JSON.parse(await readRunFile(reports, run, name)) as T;
}

export async function writeJson(
  reports: ReportStore,
  run: JobRun,
  name: string,
  value: unknown,
): Promise<void> {
  await reports.write(run.kind, run.reportId, [JSON.stringify(value)], runFile(run, name));
}
