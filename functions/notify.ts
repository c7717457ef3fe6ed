import { streamEntries } from "@backing/dynamo";
import { notifyBatch } from "@backing/engine";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { logger, observed } from "./observability.ts";
import { webhookWiring } from "./wiring.ts";

/** The table's stream: new outbox items become signed webhooks to the venues' endpoints (DESIGN §5). */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { failed } = await observed(
    "notify",
    async () => {
      const result = await notifyBatch(webhookWiring(), streamEntries(event.Records));
      for (const record of result.poison) logger.error("poison stream record skipped", { ...record });
      return result;
    },
    (r) => ({
      NotificationsDispatched: r.dispatched,
      RecordFailures: r.failed.length,
      PoisonRecords: r.poison.length,
    }),
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
