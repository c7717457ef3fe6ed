import { consumeRecomputeTasks } from "@backing/engine";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { logger, observed, transitions } from "./observability.ts";
import { engineWiring } from "./wiring.ts";

/** The recompute queue: each message is a shard of a tick's accounts; failures are reported per message. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { batchItemFailures } = await observed(
    "recompute",
    () =>
      consumeRecomputeTasks(engineWiring(), event.Records, (messageId, error) =>
        logger.error("recompute task failed", { messageId, error: String(error) }),
      ),
    (r) => ({
      AccountsEvaluated: r.results.reduce((sum, result) => sum + result.evaluated, 0),
      Transitions: r.results.reduce((sum, result) => sum + transitions(result.notifications), 0),
      TaskFailures: r.batchItemFailures.length,
    }),
  );
  return { batchItemFailures };
}
