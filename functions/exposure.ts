import { runExposureJob, startExposureJob } from "@backing/engine";
import { observed } from "./observability.ts";
import { wiring } from "./wiring.ts";

/**
 * CronV2 "Exposure": the exposure report over the stored book (DESIGN §3.9). With the job queue it
 * coordinates (pins the inputs and queues one task per segment; the job workers write the report);
 * without one it runs every segment itself.
 */
// The scheduler's event carries nothing the job needs: it always runs over the whole stored book.
export async function handler(_scheduled?: unknown) {
  const { deps, queue, segments } = wiring();
  if (queue)
    return observed(
      "exposure",
      () => startExposureJob(deps, queue, { segments }),
      (r) => ({ JobTasksSent: r.segments }),
    );
  const { reportId, locations, accounts, invalidAccounts, notifications } = await observed(
    "exposure",
    () => runExposureJob(deps, { segments }),
    (r) => ({
      AccountsEvaluated: r.accounts,
      InvalidAccounts: r.invalidAccounts,
      ReportsWritten: 1,
      Notifications: r.notifications,
    }),
  );
  return { reportId, locations, accounts, invalidAccounts, notifications };
}
