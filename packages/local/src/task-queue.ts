import { randomUUID } from "node:crypto";
import type { RecomputeTask } from "@backing/contracts";
import type { TaskQueue } from "@backing/engine";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";

/**
 * The local stand-in for the recompute queue and its event source mapping: each `send` hands the
 * tasks, as a real-shaped `SQSEvent` of up to 10 records, to the same handler as in AWS; records
 * the handler reports as failed are redelivered (receive count +1) until `maxReceives`, then kept
 * in `deadLetters`, as a DLQ would.
 */
export function inProcessQueue(
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
  options: { maxReceives?: number; queueArn?: string } = {},
): TaskQueue & { deadLetters: SQSRecord[] } {
  const deadLetters: SQSRecord[] = [];
  const arn = options.queueArn ?? "arn:aws:sqs:local:000000000000:Recompute";
  const toRecord = (body: string): SQSRecord => ({
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: arn,
    awsRegion: "local",
  });
  return {
    deadLetters,
    async send(tasks: readonly RecomputeTask[]) {
      const pending = tasks.map((task) => toRecord(JSON.stringify(task)));
      while (pending.length > 0) {
        const batch = pending.splice(0, 10);
        const { batchItemFailures } = await handler({ Records: batch });
        for (const { itemIdentifier } of batchItemFailures) {
          const record = batch.find((r) => r.messageId === itemIdentifier);
          if (!record) continue;
          const receives = Number(record.attributes.ApproximateReceiveCount) + 1;
          if (receives > (options.maxReceives ?? 3)) deadLetters.push(record);
          else
            pending.push({
              ...record,
              attributes: { ...record.attributes, ApproximateReceiveCount: String(receives) },
            });
        }
      }
    },
  };
}
