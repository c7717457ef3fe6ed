/**
 * The sweep on many workers (DESIGN §4.1). A coordinator (the Sweep cron) takes the sweep lease,
 * records a run and sends one task per segment of the book to a queue. Each worker sweeps its
 * segment and reports its totals to the run; the worker whose report completes the run expires
 * the due call deadlines (once for the whole book), lists the stale prices, stores the summary and
 * frees the lease. A segment that fails is retried by the queue: its transitions are written once
 * (state writes are conditional on the version read), and the run counts its first report only.
 */
import { randomUUID } from "node:crypto";
import { SweepTask } from "@backing/contracts";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import type { SweepMode, SweepRunRepository, SweepSummary, SweepTotals } from "./ports/index.ts";
import {
  addSweepTotals,
  finishSweep,
  noSweepTotals,
  sweepContext,
  sweepIndex,
  sweepSegment,
} from "./sweep.ts";

/** Where sweep tasks go: SQS in AWS, an in-process queue locally. */
export interface SweepTaskQueue {
  send(tasks: readonly SweepTask[]): Promise<void>;
}

export interface ShardedSweepDeps extends EngineDeps {
  store: EngineDeps["store"] & SweepRunRepository;
  sweepQueue: SweepTaskQueue;
}

/** Segments of a sharded sweep by default: one per account shard of the table. */
export const SHARDED_SWEEP_SEGMENTS = 16;
/** How long a sweep holds its lease when no worker finishes it (a crashed run): the next cron takes over then. */
export const SWEEP_LEASE_MS = 5 * 60_000;
/**
 * How often the sweep reads the whole book. In between, each sweep is an index sweep: the trigger
 * index already finds every status change a price move makes, so what it can miss between full
 * sweeps is only what a lost tick left (found by the index sweep) and what no price moves: time
 * (option decay, expiries) and an account whose index entries were lost. A params change makes
 * the next sweep full.
 */
export const FULL_SWEEP_EVERY_MS = 15 * 60_000;

export type SweepStart =
  | { started: true; sweepId: string; segments: number; mode: SweepMode }
  | { started: false };

/**
 * The coordinator: no new sweep while another holds the lease. The sweep is full (every segment
 * of the book) when none has finished within `fullEveryMs` or the params changed since the last
 * one; otherwise it is one index-sweep task.
 */
export async function startShardedSweep(
  deps: ShardedSweepDeps,
  options: { segments?: number; leaseMs?: number; fullEveryMs?: number } = {},
): Promise<SweepStart> {
  const nowMs = deps.now();
  const sweepId = `sweep_${new Date(nowMs).toISOString()}_${randomUUID().slice(0, 8)}`;
  if (!(await deps.store.acquireSweepLease(sweepId, nowMs, nowMs + (options.leaseMs ?? SWEEP_LEASE_MS))))
    return { started: false };
  const params = await currentParams(deps.store);
  const last = await deps.store.lastFullSweep();
  const full =
    !last ||
    last.paramsVersion !== params.version ||
    nowMs - last.startedAtMs >= (options.fullEveryMs ?? FULL_SWEEP_EVERY_MS);
  const mode: SweepMode = full ? "full" : "index";
  const segments = full ? (options.segments ?? SHARDED_SWEEP_SEGMENTS) : 1;
  await deps.store.createSweepRun({
    id: sweepId,
    segments,
    startedAtMs: nowMs,
    summary: null,
    mode,
    paramsVersion: params.version,
  });
  await deps.sweepQueue.send(
    Array.from({ length: segments }, (_, segment) => ({ sweepId, segment, segments, mode })),
  );
  return { started: true, sweepId, segments, mode };
}

export interface SweepTaskResult {
  totals: SweepTotals;
  /** Set for the worker whose report completed the run. */
  summary: SweepSummary | null;
}

/** A worker: one segment swept and reported. Throws on bad input (a poison message). */
export async function runSweepTask(deps: EngineDeps & { store: ShardedSweepDeps["store"] }, body: unknown) {
  const task = SweepTask.parse(body);
  if (task.segment >= task.segments)
    throw new Error(`segment ${task.segment} of ${task.segments} does not exist`);
  const run = await deps.store.getSweepRun(task.sweepId);
  if (!run) throw new Error(`no sweep run ${task.sweepId}`);
  // An index sweep needs the params only; a segment of a full sweep also the accounts with no band.
  const context =
    task.mode === "index"
      ? { params: await currentParams(deps.store), unbandedInBook: null }
      : await sweepContext(deps);
  const totals =
    task.mode === "index"
      ? await sweepIndex(deps, context.params)
      : await sweepSegment(deps, { index: task.segment, count: task.segments }, context);
  const reported = await deps.store.reportSweepSegment(task.sweepId, task.segment, totals);
  if (reported.size < task.segments) return { totals, summary: null };
  const whole = [...reported.values()].reduce(addSweepTotals, noSweepTotals());
  const summary: SweepSummary = {
    ...whole,
    ...(await finishSweep(deps, context.params, { invalid: whole.invalid, mode: run.mode ?? "full" })),
    finishedAtMs: deps.now(),
  };
  // Two workers may both see the run complete: one stores the summary and frees the lease.
  if (!(await deps.store.finishSweepRun(task.sweepId, summary))) return { totals, summary: null };
  if (run.mode !== "index")
    await deps.store.recordFullSweep({
      startedAtMs: run.startedAtMs,
      paramsVersion: run.paramsVersion ?? context.params.version,
    });
  await deps.store.releaseSweepLease(task.sweepId);
  return { totals, summary };
}

/**
 * A sweep queue that runs each task at once in this process: the sharded sweep without a queue
 * (a small book, a deployment without the sweep queue, the local runtime).
 */
export function inlineSweepQueue(deps: EngineDeps & { store: ShardedSweepDeps["store"] }): SweepTaskQueue {
  return {
    async send(tasks) {
      for (const task of tasks) await runSweepTask(deps, task);
    },
  };
}
