/**
 * The queue consumers every runtime uses: SQS-shaped recompute, sweep and job tasks (their Lambdas,
 * serve's in-process queue) and the table's stream of outbox items (the notify Lambda, the local
 * stream poller). All answer with the partial batch response Lambda understands.
 */
import { JobTask } from "@backing/contracts";
import type { EngineDeps } from "./deps.ts";
import { type ExposureJobDeps, type ExposureJobResult, exposureJob } from "./exposure-job.ts";
import type { SweepSummary } from "./ports/index.ts";
import type { RecomputeResult } from "./recompute/index.ts";
import { type JobTaskOutcome, type JobTaskQueue, runShardedTask } from "./sharded-jobs.ts";
import { type StressJobDeps, type StressJobResult, stressJob } from "./stress-job.ts";
import { runSweepTask, type ShardedSweepDeps, type SweepTaskResult } from "./sweep-shards.ts";
import { runRecomputeTask } from "./tick.ts";
import type { WebhookDeps } from "./webhooks/deps.ts";
import { type NotifyBatchResult, type NotifyEntry, notifyBatch } from "./webhooks/notify-batch.ts";

export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** Each message on its own: one that fails (bad input, the store) is reported, and the rest go on. */
async function consumeEach<R>(
  messages: readonly { messageId: string; body: string }[],
  run: (body: unknown) => Promise<R>,
  onFailure: (messageId: string, error: unknown) => void,
): Promise<BatchResponse & { results: R[] }> {
  const batchItemFailures: BatchResponse["batchItemFailures"] = [];
  const results: R[] = [];
  for (const message of messages) {
    try {
      results.push(await run(JSON.parse(message.body)));
    } catch (error) {
      onFailure(message.messageId, error);
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures, results };
}

/** Each message a shard of a tick's recompute. */
export const consumeRecomputeTasks = (
  deps: EngineDeps,
  messages: readonly { messageId: string; body: string }[],
  onFailure: (messageId: string, error: unknown) => void,
): Promise<BatchResponse & { results: RecomputeResult[] }> =>
  consumeEach(messages, (body) => runRecomputeTask(deps, body), onFailure);

/**
 * Each message one segment of a sharded sweep (the queue retries a failed one, then parks it in
 * its DLQ). `onSummary` hears from the worker that finished a run.
 */
export const consumeSweepTasks = (
  deps: EngineDeps & { store: ShardedSweepDeps["store"] },
  messages: readonly { messageId: string; body: string }[],
  handlers: {
    onFailure: (messageId: string, error: unknown) => void;
    onSummary?: (summary: SweepSummary) => void;
  },
): Promise<BatchResponse & { results: SweepTaskResult[] }> =>
  consumeEach(
    messages,
    async (body) => {
      const result = await runSweepTask(deps, body);
      if (result.summary) handlers.onSummary?.(result.summary);
      return result;
    },
    handlers.onFailure,
  );

/** The job queue's messages: each a segment's pass of a sharded exposure report or stress run. */
export const consumeJobTasks = (
  jobs: { exposure: ExposureJobDeps; stress: StressJobDeps; queue: JobTaskQueue },
  messages: readonly { messageId: string; body: string }[],
  handlers: {
    onFailure: (messageId: string, error: unknown) => void;
    onFinished?: (job: JobTask["job"], result: ExposureJobResult | StressJobResult) => void;
  },
): Promise<BatchResponse & { results: JobTaskOutcome<ExposureJobResult | StressJobResult>[] }> =>
  consumeEach(
    messages,
    async (body) => {
      const job = JobTask.shape.job.parse((body as { job?: unknown } | null)?.job);
      const outcome =
        job === "exposure"
          ? await runShardedTask(jobs.exposure, exposureJob, jobs.queue, body)
          : await runShardedTask(jobs.stress, stressJob, jobs.queue, body);
      if (outcome.state === "finished") handlers.onFinished?.(job, outcome.result);
      return outcome;
    },
    handlers.onFailure,
  );

/** A batch of stream records: notifications dispatched, poison records reported and skipped. */
export async function consumeNotificationStream(
  deps: WebhookDeps,
  entries: readonly NotifyEntry[],
  onPoison: (poison: NotifyBatchResult["poison"][number]) => void,
): Promise<BatchResponse & { result: NotifyBatchResult }> {
  const result = await notifyBatch(deps, entries);
  for (const poison of result.poison) onPoison(poison);
  return { batchItemFailures: result.failed.map((itemIdentifier) => ({ itemIdentifier })), result };
}
