import { type RecomputeTask, RecomputeTask as RecomputeTaskSchema } from "@backing/contracts";
import { type EngineDeps, processPriceEvents, type RecomputeResult, recomputeAccounts } from "./jobs.ts";

/** Where shard tasks go: SQS in AWS, an in-process queue with the same event shape locally. */
export interface TaskQueue {
  send(tasks: readonly RecomputeTask[]): Promise<void>;
}

/** Accounts one recompute invocation takes on. */
export const RECOMPUTE_BATCH = 500;

/**
 * The price-event handler's job: ingest, find the accounts whose bands the tick leaves, and either
 * recompute them inline (a small tick) or split them into shard tasks on the queue, so the handler
 * itself stays fast whatever the tick touches.
 */
export async function handlePriceEvents(
  input: unknown,
  deps: EngineDeps & { queue?: TaskQueue },
  options: { batch?: number } = {},
): Promise<{ triggered: number; queued: number; recompute: RecomputeResult | null }> {
  const batch = options.batch ?? RECOMPUTE_BATCH;
  let deferred: string[] = [];
  const defer = (ids: string[]) => {
    if (ids.length <= batch) return false;
    deferred = ids;
    return true;
  };
  const result = await processPriceEvents(input, deps, deps.queue ? { defer } : {});
  if (deferred.length === 0) return { triggered: result.triggered, queued: 0, recompute: result.recompute };
  const reason = `price tick ${[...result.ingest.movedAssets].sort().join(",")}`;
  const tasks: RecomputeTask[] = [];
  for (let i = 0; i < deferred.length; i += batch)
    tasks.push({ accountIds: deferred.slice(i, i + batch), reason });
  await deps.queue?.send(tasks);
  return { triggered: result.triggered, queued: tasks.length, recompute: null };
}

/** One queued shard task (the recompute handler). Throws on bad input: the message is poison. */
export async function runRecomputeTask(deps: EngineDeps, body: unknown): Promise<RecomputeResult> {
  const task = RecomputeTaskSchema.parse(body);
  return recomputeAccounts(task.accountIds, deps, { bands: true });
}
