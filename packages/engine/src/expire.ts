/** Call deadlines: margin.call.expired once per episode whose deadline passed uncured. */
import { expire } from "@backing/core";
import type { EngineDeps } from "./deps.ts";
import { VersionConflictError } from "./errors.ts";
import type { StateWrite, StoredRiskState } from "./ports/index.ts";
import { linkedWrite, notificationFor } from "./recompute/notification.ts";
import { snapshotOf } from "./recompute/snapshot.ts";

/**
 * margin.call.expired, once per episode, for episodes whose deadline has passed uncured. The due
 * accounts' writes go out grouped (a crash tick expires hundreds at once); an account whose state
 * moved meanwhile is re-read and done alone.
 */
export async function expireCalls(deps: EngineDeps): Promise<number> {
  const nowMs = deps.now();
  const due = await deps.store.dueEpisodes(nowMs);
  if (due.length === 0) return 0;
  const [snapshot, states] = await Promise.all([
    deps.store.getPrices().then(snapshotOf),
    deps.store.getRiskStates(due),
  ]);
  const expiryOf = (previous: StoredRiskState | undefined): StateWrite | null => {
    if (!previous) return null;
    const step = expire({ status: previous.status, episode: previous.episode }, nowMs);
    if (step.notifications.length === 0) return null;
    const state: StoredRiskState = {
      ...previous,
      episode: step.state.episode,
      version: previous.version + 1,
    };
    const notifications = step.notifications.map((type) =>
      notificationFor(type, state, previous, snapshot, nowMs),
    );
    return linkedWrite({ state, previous, notifications });
  };
  const writes = due.map((id) => expiryOf(states.get(id))).filter((w): w is StateWrite => w !== null);
  const conflicted = writes.length > 0 ? await deps.store.writeStates(writes) : new Set<string>();
  let emitted = 0;
  for (const write of writes)
    if (!conflicted.has(write.state.accountId)) emitted += write.notifications.length;
  for (const accountId of conflicted) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const write = expiryOf((await deps.store.getRiskStates([accountId])).get(accountId));
      if (!write) break;
      try {
        await deps.store.writeState(write);
        emitted += write.notifications.length;
        break;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
  }
  return emitted;
}
