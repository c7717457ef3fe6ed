import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { TaskQueue } from "@backing/engine";

/** The recompute queue in AWS: SendMessageBatch, 10 tasks per call, failed entries sent again. */
export function sqsTaskQueue(queueUrl: string, client = new SQSClient({})): TaskQueue {
  return {
    async send(tasks) {
      for (let i = 0; i < tasks.length; i += 10) {
        let entries = tasks
          .slice(i, i + 10)
          .map((task, k) => ({ Id: String(k), MessageBody: JSON.stringify(task) }));
        for (let attempt = 0; entries.length > 0; attempt++) {
          if (attempt >= 5) throw new Error(`SQS refused ${entries.length} recompute tasks after 5 attempts`);
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
