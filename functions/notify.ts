import { streamEntries } from "@backing/dynamo";
import { notifyBatch } from "@backing/engine";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { webhookWiring } from "./wiring.ts";

/** The table's stream: new outbox items become signed webhooks to the venues' endpoints (DESIGN §5). */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const { failed, poison } = await notifyBatch(webhookWiring(), streamEntries(event.Records));
  for (const record of poison)
    console.error(JSON.stringify({ message: "poison stream record skipped", ...record }));
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
