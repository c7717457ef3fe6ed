import { runStressJob } from "@backing/engine";
import { wiring } from "./wiring.ts";

/** CronV2 "Stress": the shipped pack over the stored book (DESIGN §3.8). */
export async function handler() {
  const { reportId, location, accounts, notifications } = await runStressJob(wiring());
  return { reportId, location, accounts, notifications };
}
