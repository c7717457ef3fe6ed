import { consumeSweepTasks } from "@backing/engine";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { logger, observed, transitions } from "./observability.ts";
import { sweepWorkerWiring } from "./wiring.ts";

/**
 * The sweep queue: each message one segment of the book, swept and reported to its run; the worker
 * that completes a run logs its summary (accounts, transitions, stale prices, invalid accounts).
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { batchItemFailures } = await observed(
    "sweep-worker",
    () =>
      consumeSweepTasks(sweepWorkerWiring(), event.Records, {
        onFailure: (messageId, error) =>
          logger.error("sweep segment failed", { messageId, error: String(error) }),
        onSummary: (summary) => logger.info("sweep done", { ...summary, invalid: summary.invalid.length }),
      }),
    (r) => ({
      AccountsEvaluated: r.results.reduce((sum, result) => sum + result.totals.evaluated, 0),
      Transitions: r.results.reduce((sum, result) => sum + transitions(result.totals.notifications), 0),
      CallsExpired: r.results.reduce((sum, result) => sum + (result.summary?.expired ?? 0), 0),
      StaleAssets: r.results.reduce((sum, result) => sum + (result.summary?.staleAssets.length ?? 0), 0),
      // Marks beyond maxMarkDeviation of their index, evaluated at the bound: a squeeze or a bad feed.
      MarkGuardedAssets: r.results.reduce(
        (sum, result) => sum + (result.summary?.markGuardedAssets.length ?? 0),
        0,
      ),
      // Stored accounts no call can be made on (an asset unpriced, an instrument expired): alarm above 0.
      UnwatchedAccounts: r.results.reduce((sum, result) => sum + (result.summary?.unwatched ?? 0), 0),
      SegmentFailures: r.batchItemFailures.length,
    }),
  );
  return { batchItemFailures };
}
