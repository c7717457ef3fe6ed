import { sweepAccounts } from "@backing/engine";
import { engineWiring } from "./wiring.ts";

/** CronV2 "Sweep": every account recomputed, bands rewritten, deadlines expired (DESIGN §3.7). */
export async function handler() {
  const { accounts, evaluated, written, skippedStale, expired, staleAssets, invalid } = await sweepAccounts(
    engineWiring(),
  );
  return { accounts, evaluated, written, skippedStale, expired, staleAssets, invalid: invalid.length };
}
