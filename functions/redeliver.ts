import { REDELIVER_WINDOW_MS, redeliverWindow } from "@backing/engine";
import { z } from "zod";
import { observed } from "./observability.ts";
import { webhookWiring } from "./wiring.ts";

const RedeliverEnvironment = z.object({
  /** How long one run keeps polling for due retries (default 55 s of its minute; 0: one pass). */
  BACKING_REDELIVER_WINDOW_SECONDS: z.coerce
    .number()
    .min(0)
    .max(600)
    .default(REDELIVER_WINDOW_MS / 1000),
});

/**
 * CronV2 "Redeliver": every webhook delivery whose retry is due, asked for each second for most
 * of the minute, so the schedule's 5 s step is kept although the cron runs once a minute.
 */
// The scheduler's event carries nothing the job needs: it takes the deliveries due now.
export async function handler(_scheduled?: unknown) {
  const { BACKING_REDELIVER_WINDOW_SECONDS } = RedeliverEnvironment.parse(process.env);
  return observed(
    "redeliver",
    () => redeliverWindow(webhookWiring(), { windowMs: BACKING_REDELIVER_WINDOW_SECONDS * 1000 }),
    (r) => ({ DeliveryAttempts: r.attempted }),
  );
}
