import { streamEntries } from "@backing/dynamo";
import { consumeNotificationStream } from "@backing/engine";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { logger, observed } from "./observability.ts";
import { webhookWiring } from "./wiring.ts";

/** The table's stream: new outbox items become signed webhooks to the venues' endpoints (DESIGN §5). */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { batchItemFailures } = await observed(
    "notify",
    () =>
      consumeNotificationStream(webhookWiring(), streamEntries(event.Records), (poison) =>
        logger.error("poison stream record skipped", { ...poison }),
      ),
    ({ result }) => ({
      NotificationsDispatched: result.dispatched,
      RecordFailures: result.failed.length,
      PoisonRecords: result.poison.length,
    }),
  );
  return { batchItemFailures };
}
