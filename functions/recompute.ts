import { runRecomputeTask } from "@backing/engine";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { engineWiring } from "./wiring.ts";

/** The recompute queue: each message is a shard of a tick's accounts; failures are reported per message. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      await runRecomputeTask(engineWiring(), JSON.parse(record.body));
    } catch (error) {
      console.error(
        JSON.stringify({
          message: "recompute task failed",
          messageId: record.messageId,
          error: String(error),
        }),
      );
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
