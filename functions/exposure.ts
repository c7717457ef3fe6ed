import { runExposureJob } from "@backing/engine";
import { observed } from "./observability.ts";
import { wiring } from "./wiring.ts";

/** CronV2 "Exposure": the exposure report over the stored book (DESIGN §3.9). */
// The scheduler's event carries nothing the job needs: it always runs over the whole stored book.
export async function handler(_scheduled?: unknown) {
  const { reportId, locations, accounts, invalidAccounts, notifications } = await observed(
    "exposure",
    () => runExposureJob(wiring()),
    (r) => ({
      AccountsEvaluated: r.accounts,
      InvalidAccounts: r.invalidAccounts,
      ReportsWritten: 1,
      Notifications: r.notifications,
    }),
  );
  return { reportId, locations, accounts, invalidAccounts, notifications };
}
