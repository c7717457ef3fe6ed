/**
 * The two queue consumers every runtime uses: SQS-shaped recompute tasks (the recompute Lambda,
 * serve's in-process queue) and the table's stream of outbox items (the notify Lambda, the local
 * stream poller). Both answer with the partial batch response Lambda understands.
 */
import type { EngineDeps } from "./deps.ts";
import type { RecomputeResult } from "./recompute/index.ts";
import { runRecomputeTask } from "./tick.ts";
import type { WebhookDeps } from "./webhooks/deps.ts";
import { type NotifyBatchResult, type NotifyEntry, notifyBatch } from "./webhooks/notify-batch.ts";

export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** Each message a shard task; a message that fails (bad input, the store) is reported on its own. */
export async function consumeRecomputeTasks(
  deps: EngineDeps,
  messages: readonly { messageId: string; body: string }[],
  onFailure: (messageId: string, error: unknown) => void,
): Promise<BatchResponse & { results: RecomputeResult[] }> {
  const batchItemFailures: BatchResponse["batchItemFailures"] = [];
  const results: RecomputeResult[] = [];
  for (const message of messages) {
    try {
      results.push(await runRecomputeTask(deps, JSON.parse(message.body)));
    } catch (error) {
      onFailure(message.messageId, error);
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures, results };
}

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
