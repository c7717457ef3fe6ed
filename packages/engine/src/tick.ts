/** A tick: ingest the price events, find the accounts the moves reach, recompute them inline or fan them out as shard tasks. */
import { type RecomputeTask, RecomputeTask as RecomputeTaskSchema } from "@backing/contracts";
import { Decimal } from "@backing/core";
import type { EngineDeps } from "./deps.ts";
import { type EventOutcome, ingestPriceEvents } from "./ingest.ts";
import { noRecompute, type RecomputeResult, recomputeAccounts } from "./recompute/index.ts";

/** The accounts whose stored band on `asset` its price (index and mark) lies outside, or that have none. */
export function crossedAccountIds(
  store: EngineDeps["store"],
  asset: string,
  price: { index: string; mark: string },
): Promise<string[]> {
  return store.triggeredAccountIds(
    asset,
    Decimal.min(price.index, price.mark).toFixed(),
    Decimal.max(price.index, price.mark).toFixed(),
  );
}

/**
 * One tick: ingest the events, then recompute the accounts the moves can affect. `bands` (the
 * default, DESIGN §3.7): only accounts whose trigger band on a moved asset no longer holds the new
 * price, found by range queries, and their bands are rewritten. `full`: every account exposed to a
 * moved asset (the baseline, and what the sweep does for everyone).
 */
export async function runTick(
  input: unknown,
  deps: EngineDeps,
  options: {
    mode?: "bands" | "full";
    /** Returns true to take the recompute of these accounts elsewhere (the fan-out to a queue). */
    defer?: (ids: string[]) => boolean;
  } = {},
) {
  const ingest = await ingestPriceEvents(input, deps);
  const ids = new Set<string>();
  const mode = options.mode ?? "bands";
  const prices = mode === "bands" && ingest.movedAssets.size > 0 ? ingest.prices : null;
  for (const asset of ingest.movedAssets) {
    const latest = prices?.get(asset)?.latest;
    const found = latest
      ? await crossedAccountIds(deps.store, asset, latest)
      : await deps.store.exposedAccountIds(asset);
    for (const id of found) ids.add(id);
  }
  const triggered = [...ids];
  const recompute = options.defer?.(triggered)
    ? noRecompute()
    : await recomputeAccounts(triggered, deps, {
        bands: mode === "bands",
        ...(prices ? { prices } : {}),
      });
  return { ingest, recompute, triggered: ids.size };
}

/** Where shard tasks go: SQS in AWS, an in-process queue with the same event shape locally. */
export interface TaskQueue {
  send(tasks: readonly RecomputeTask[]): Promise<void>;
}

/** Accounts one recompute invocation takes on. */
export const RECOMPUTE_BATCH = 500;

/**
 * The recompute of a tick's (or a funding print's) accounts: inline when they fit one batch or
 * there is no queue, else split into shard tasks on the queue, so the handler stays fast whatever
 * the event touches.
 */
export async function recomputeOrFanOut(
  ids: readonly string[],
  reason: string,
  deps: EngineDeps & { queue?: TaskQueue },
  batch = RECOMPUTE_BATCH,
  settlingOn?: RecomputeTask["settlingOn"],
): Promise<{ queued: number; recompute: RecomputeResult | null }> {
  if (!deps.queue || ids.length <= batch)
    return {
      queued: 0,
      recompute: await recomputeAccounts([...ids], deps, {
        bands: true,
        ...(settlingOn ? { settlingOn } : {}),
      }),
    };
  const tasks: RecomputeTask[] = [];
  for (let i = 0; i < ids.length; i += batch)
    tasks.push({ accountIds: ids.slice(i, i + batch), reason, ...(settlingOn ? { settlingOn } : {}) });
  await deps.queue.send(tasks);
  return { queued: tasks.length, recompute: null };
}

/**
 * The price-event handler's job: ingest, find the accounts whose bands the tick leaves, and either
 * recompute them inline (a small tick) or split them into shard tasks on the queue.
 */
export async function runTickOrFanOut(
  input: unknown,
  deps: EngineDeps & { queue?: TaskQueue },
  options: { batch?: number } = {},
): Promise<{
  outcomes: EventOutcome[];
  triggered: number;
  queued: number;
  recompute: RecomputeResult | null;
}> {
  const batch = options.batch ?? RECOMPUTE_BATCH;
  let deferred: string[] = [];
  const defer = (ids: string[]) => {
    if (ids.length <= batch) return false;
    deferred = ids;
    return true;
  };
  const result = await runTick(input, deps, deps.queue ? { defer } : {});
  const outcomes = result.ingest.outcomes;
  if (deferred.length === 0)
    return { outcomes, triggered: result.triggered, queued: 0, recompute: result.recompute };
  const reason = `price tick ${[...result.ingest.movedAssets].sort().join(",")}`;
  const { queued } = await recomputeOrFanOut(deferred, reason, deps, batch);
  return { outcomes, triggered: result.triggered, queued, recompute: null };
}

/** One queued shard task (the recompute handler). Throws on bad input: the message is poison. */
export async function runRecomputeTask(deps: EngineDeps, body: unknown): Promise<RecomputeResult> {
  const task = RecomputeTaskSchema.parse(body);
  return recomputeAccounts(task.accountIds, deps, {
    bands: true,
    ...(task.settlingOn ? { settlingOn: task.settlingOn } : {}),
  });
}
