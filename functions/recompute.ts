import { runRecomputeTask } from "@backing/engine";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { logger, observed, transitions } from "./observability.ts";
import { engineWiring } from "./wiring.ts";

/** The recompute queue: each message is a shard of a tick's accounts; failures are reported per message. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  let evaluated = 0;
  let moved = 0;
  return observed(
    "recompute",
    async () => {
      const failures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        try {
          const result = await runRecomputeTask(engineWiring(), JSON.parse(record.body));
          evaluated += result.evaluated;
          moved += transitions(result.notifications);
        } catch (error) {
          logger.error("recompute task failed", { messageId: record.messageId, error: String(error) });
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures: failures };
    },
    (r) => ({ AccountsEvaluated: evaluated, Transitions: moved, TaskFailures: r.batchItemFailures.length }),
  );
}
