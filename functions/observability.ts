import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { type EventOutcome, notAppliedLogs, outcomeCounts } from "@backing/engine";

/**
 * Logs and metrics for every handler (reference serverless.md §3): Powertools' structured JSON logs
 * and CloudWatch EMF metrics, namespace `Backing`, one dimension `job`. What is logged is counts
 * and identifiers (account, venue, job, notification ids); never a payload, a webhook secret or an
 * API key, so nothing secret can reach CloudWatch by accident (a test scans captured logs).
 */
export const logger = new Logger({ serviceName: "backing" });
export const metrics = new Metrics({ namespace: "Backing", serviceName: "backing" });

/** Webhook attempt outcomes seen during the current job (counted by the wiring's `onAttempt`). */
const attempts = new Map<string, number>();
export function countAttempt(result: string) {
  attempts.set(result, (attempts.get(result) ?? 0) + 1);
}

/** Counts a job reports as metrics, by metric name (`AccountsEvaluated`, `Transitions`, …). */
export type JobCounts = Record<string, number>;

/**
 * Runs one job: logs its start and outcome under the `job` key, emits its counts, its duration and
 * a `JobFailures` count, and flushes the metrics whether it succeeded or threw.
 */
export async function observed<T>(
  job: string,
  run: () => Promise<T>,
  counts: (result: T) => JobCounts,
): Promise<T> {
  const started = performance.now();
  logger.appendKeys({ job });
  metrics.addDimension("job", job);
  try {
    const result = await run();
    const reported = { ...counts(result), ...attemptCounts() };
    for (const [name, value] of Object.entries(reported)) metrics.addMetric(name, MetricUnit.Count, value);
    metrics.addMetric("JobFailures", MetricUnit.Count, 0);
    logger.info(`${job} done`, { ...reported, durationMs: Math.round(performance.now() - started) });
    return result;
  } catch (error) {
    metrics.addMetric("JobFailures", MetricUnit.Count, 1);
    logger.error(`${job} failed`, error as Error);
    throw error;
  } finally {
    attempts.clear();
    metrics.addMetric("JobDuration", MetricUnit.Milliseconds, performance.now() - started);
    metrics.publishStoredMetrics();
    logger.removeKeys(["job"]);
  }
}

/** Delivered and failed webhook attempts, when the job made any. */
function attemptCounts(): JobCounts {
  if (attempts.size === 0) return {};
  const delivered = attempts.get("delivered") ?? 0;
  const total = [...attempts.values()].reduce((a, b) => a + b, 0);
  return { Deliveries: delivered, DeliveryFailures: total - delivered };
}

/**
 * A price feed's health: every event not accepted is logged with its reason (notAppliedLogs), and
 * every outcome is counted (`PricesAccepted`,
 * `PricesHeld`, `PricesStale`, `PricesDuplicate`, `PricesOutOfOrder`, `PricesRejected`).
 */
export function logPriceOutcomes(outcomes: readonly EventOutcome[]): JobCounts {
  for (const { level, entry } of notAppliedLogs(outcomes))
    logger[level]("price event not applied", { ...entry });
  return outcomeCounts(outcomes);
}

/** The API's price outcomes as metrics of their own (the API is not a job: it publishes them at once). */
export function publishPriceOutcomes(outcomes: readonly EventOutcome[]): void {
  for (const [name, value] of Object.entries(logPriceOutcomes(outcomes)))
    metrics.addMetric(name, MetricUnit.Count, value);
  metrics.publishStoredMetrics();
}

/** The number of margin transitions a recompute reported (one notification per transition). */
export const transitions = (notifications: Partial<Record<string, number>>) =>
  Object.values(notifications).reduce<number>((sum, n) => sum + (n ?? 0), 0);
