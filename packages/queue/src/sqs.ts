import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { JobTaskQueue, SweepTaskQueue, TaskQueue } from "@backing/engine";

/** A queue of JSON messages in AWS: SendMessageBatch, 10 per call, failed entries sent again. */
function sqsQueue<T>(
  queueUrl: string,
  what: string,
  client: SQSClient,
): { send(items: readonly T[]): Promise<void> } {
  return {
    async send(items) {
      for (let i = 0; i < items.length; i += 10) {
        let entries = items
          .slice(i, i + 10)
          .map((item, k) => ({ Id: String(k), MessageBody: JSON.stringify(item) }));
        for (let attempt = 0; entries.length > 0; attempt++) {
          if (attempt >= 5) throw new Error(`SQS refused ${entries.length} ${what} after 5 attempts`);
          const response = await client.send(
            new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
          );
          const failed = new Set((response.Failed ?? []).map((f) => f.Id));
          entries = entries.filter((e) => failed.has(e.Id));
        }
      }
    },
  };
}

/** The recompute queue: a large tick's shard tasks. */
export const sqsTaskQueue = (queueUrl: string, client = new SQSClient({})): TaskQueue =>
  sqsQueue(queueUrl, "recompute tasks", client);

/** The sweep queue: one task per segment of a sharded sweep. */
export const sqsSweepQueue = (queueUrl: string, client = new SQSClient({})): SweepTaskQueue =>
  sqsQueue(queueUrl, "sweep tasks", client);

/** The job queue: one task per segment and pass of a sharded exposure report or stress run. */
export const sqsJobQueue = (queueUrl: string, client = new SQSClient({})): JobTaskQueue =>
  sqsQueue(queueUrl, "job tasks", client);
