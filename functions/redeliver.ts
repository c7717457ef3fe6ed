import { redeliverDue } from "@backing/engine";
import { observed } from "./observability.ts";
import { webhookWiring } from "./wiring.ts";

/** CronV2 "Redeliver": every webhook delivery whose retry is due. */
// The scheduler's event carries nothing the job needs: it takes the deliveries due now.
export async function handler(_scheduled?: unknown) {
  return observed(
    "redeliver",
    () => redeliverDue(webhookWiring()),
    (r) => ({ DeliveryAttempts: r.attempted }),
  );
}
