import { startShardedSweep } from "@backing/engine";
import { observed } from "./observability.ts";
import { sweepWiring } from "./wiring.ts";

/**
 * CronV2 "Sweep", the coordinator of the sharded sweep (DESIGN §3.7, §4.1): takes the sweep lease
 * (none while another sweep runs) and queues one task per segment of the book for the sweep workers
 * when the sweep is full (every BACKING_FULL_SWEEP_MINUTES, and after a params change), or one
 * index-sweep task in between.
 * Without a sweep queue the segments run here, and the run's summary is returned.
 */
// The scheduler's event carries nothing the job needs: the lease and the run say what to do.
export async function handler(_scheduled?: unknown) {
  const { deps, segments, fullEveryMs } = sweepWiring();
  const start = await observed(
    "sweep",
    () => startShardedSweep(deps, { segments, fullEveryMs }),
    (r) => ({
      SweepsStarted: r.started ? 1 : 0,
      FullSweepsStarted: r.started && r.mode === "full" ? 1 : 0,
      SweepSegmentsQueued: r.started ? r.segments : 0,
    }),
  );
  if (!start.started) return start;
  const summary = (await deps.store.getSweepRun(start.sweepId))?.summary;
  if (!summary) return start;
  const { accounts, evaluated, written, skippedStale, expired, staleAssets, invalid, unwatched } = summary;
  return {
    ...start,
    accounts,
    evaluated,
    written,
    skippedStale,
    expired,
    staleAssets,
    invalid: invalid.length,
    unwatched,
  };
}
