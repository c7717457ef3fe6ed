import { runExposureJob } from "@backing/engine";
import { wiring } from "./wiring.ts";

/** CronV2 "Exposure": the exposure report over the stored book (DESIGN §3.9). */
export async function handler() {
  const { reportId, locations, accounts, invalidAccounts, notifications } = await runExposureJob(wiring());
  return { reportId, locations, accounts, invalidAccounts, notifications };
}
