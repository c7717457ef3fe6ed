import { redeliverDue } from "@backing/engine";
import { webhookWiring } from "./wiring.ts";

/** CronV2 "Redeliver": every webhook delivery whose retry is due. */
export async function handler() {
  return redeliverDue(webhookWiring());
}
