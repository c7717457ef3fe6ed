import { runStressJob } from "@backing/engine";
import { observed } from "./observability.ts";
import { wiring } from "./wiring.ts";

/** CronV2 "Stress": the shipped pack over the stored book (DESIGN §3.8). */
// The scheduler's event carries nothing the job needs: it always runs over the whole stored book.
export async function handler(_scheduled?: unknown) {
  const { reportId, location, accounts, notifications } = await observed(
    "stress",
    () => runStressJob(wiring()),
    (r) => ({ AccountsEvaluated: r.accounts, ReportsWritten: 1, Notifications: r.notifications }),
  );
  return { reportId, location, accounts, notifications };
}
