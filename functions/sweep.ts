import { sweepAccounts } from "@backing/engine";
import { observed, transitions } from "./observability.ts";
import { engineWiring } from "./wiring.ts";

/** CronV2 "Sweep": every account recomputed, bands rewritten, deadlines expired (DESIGN §3.7). */
// The scheduler's event carries nothing the job needs: it always runs over the whole stored book.
export async function handler(_scheduled?: unknown) {
  const { accounts, evaluated, written, skippedStale, expired, staleAssets, invalid } = await observed(
    "sweep",
    () => sweepAccounts(engineWiring()),
    (r) => ({
      AccountsEvaluated: r.evaluated,
      Transitions: transitions(r.notifications),
      CallsExpired: r.expired,
      StaleAssets: r.staleAssets.length,
      InvalidAccounts: r.invalid.length,
    }),
  );
  return { accounts, evaluated, written, skippedStale, expired, staleAssets, invalid: invalid.length };
}
