import { consumeJobTasks } from "@backing/engine";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { logger, observed } from "./observability.ts";
import { wiring } from "./wiring.ts";

/**
 * The job queue: each message one segment's pass of a sharded exposure report or stress run. A
 * failed message is retried by the queue (then parked in JobFailures); the worker that completes a
 * job logs where its report went.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { deps, queue } = wiring();
  if (!queue)
    throw new Error("the job worker needs BACKING_JOB_QUEUE_URL (its own queue, for the next pass)");
  const { batchItemFailures } = await observed(
    "job-worker",
    () =>
      consumeJobTasks({ exposure: deps, stress: deps, queue }, event.Records, {
        onFailure: (messageId, error) => logger.error("job task failed", { messageId, error: String(error) }),
        onFinished: (job, result) =>
          logger.info("job done", { job, reportId: result.reportId, accounts: result.accounts }),
      }),
    (r) => ({
      JobTasksDone: r.results.length,
      ReportsWritten: r.results.filter((o) => o.state === "finished").length,
      JobTaskFailures: r.batchItemFailures.length,
    }),
  );
  return { batchItemFailures };
}
