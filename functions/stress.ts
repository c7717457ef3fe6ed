import { runStressJob, startStressJob } from "@backing/engine";
import { observed } from "./observability.ts";
import { wiring } from "./wiring.ts";

/**
 * CronV2 "Stress": the shipped pack over the stored book (DESIGN §3.8). With the job queue it
 * coordinates (the job workers run the cascade's rounds and write the report); without one it runs
 * every segment itself.
 */
// The scheduler's event carries nothing the job needs: it always runs over the whole stored book.
export async function handler(_scheduled?: unknown) {
  const { deps, queue, segments } = wiring();
  if (queue)
    return observed(
      "stress",
      () => startStressJob(deps, queue, { segments }),
      (r) => ({ JobTasksSent: r.segments }),
    );
  const { reportId, location, accounts, notifications } = await observed(
    "stress",
    () => runStressJob(deps, { segments }),
    (r) => ({ AccountsEvaluated: r.accounts, ReportsWritten: 1, Notifications: r.notifications }),
  );
  return { reportId, location, accounts, notifications };
}
