import { redeliverWindow } from "@backing/engine";
import { observed } from "./observability.ts";
import { redeliverWiring } from "./wiring.ts";

/**
 * CronV2 "Redeliver": every webhook delivery whose retry is due, asked for each second for most
 * of the minute, so the schedule's 5 s step is kept although the cron runs once a minute.
 */
// The scheduler's event carries nothing the job needs: it takes the deliveries due now.
export async function handler(_scheduled?: unknown) {
  const { deps, windowMs } = redeliverWiring();
  return observed(
    "redeliver",
    () => redeliverWindow(deps, { windowMs }),
    (r) => ({ DeliveryAttempts: r.attempted }),
  );
}
