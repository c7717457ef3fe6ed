/**
 * Accounts that became impossible to evaluate after they were stored (an asset no longer priced,
 * an instrument past its expiry) must not go silently unwatched: each sweep that ends marks them,
 * sends each one `account.unwatched` once, and a full sweep clears the marks of those evaluated
 * again (or gone).
 */
import { createHash } from "node:crypto";
import type { EngineDeps } from "./deps.ts";
import type { NotificationRecord, SweepMode, UnwatchedAccount } from "./ports/index.ts";
import type { RecomputeResult } from "./recompute/index.ts";

export function unwatchedNotification(mark: UnwatchedAccount, nowMs: number): NotificationRecord {
  const since = new Date(mark.sinceMs).toISOString();
  return {
    // One per mark: a retry after a crash re-sends the same id; a later mark of the same account is new.
    id: `ntf_${createHash("sha256").update(`${mark.accountId}\u0000unwatched\u0000${mark.sinceMs}`).digest("hex").slice(0, 32)}`,
    type: "account.unwatched",
    venue: mark.venue,
    accountId: mark.accountId,
    episodeId: null,
    createdAtMs: nowMs,
    payload: {
      type: "account.unwatched",
      timestamp: new Date(nowMs).toISOString(),
      data: { venue: mark.venue, account: mark.accountId, reasons: mark.reasons, since },
    },
  };
}

/**
 * After a sweep: marks the accounts it could not evaluate (`invalid`) and puts each new mark's
 * notification in the outbox before recording it as notified (a crash in between re-sends the same
 * id next time). A full sweep saw every account, so it also clears the marks of the accounts it
 * did not find invalid; an index sweep saw only some. Returns how many are marked now.
 */
export async function syncUnwatched(
  deps: EngineDeps,
  invalid: RecomputeResult["invalid"],
  mode: SweepMode,
): Promise<number> {
  const marks = new Map((await deps.store.listUnwatched()).map((m) => [m.accountId, m]));
  const nowMs = deps.now();
  const found = new Map<string, UnwatchedAccount>();
  for (const { accountId, venue, message } of invalid)
    found.set(
      accountId,
      marks.get(accountId) ?? {
        accountId,
        venue,
        reasons: message.split("; "),
        sinceMs: nowMs,
        notified: false,
      },
    );
  if (mode === "full") {
    const cleared = [...marks.keys()].filter((id) => !found.has(id));
    if (cleared.length > 0) await deps.store.deleteUnwatched(cleared);
    for (const id of cleared) marks.delete(id);
  }
  for (const mark of found.values()) {
    if (mark.notified) continue;
    if (!marks.has(mark.accountId)) await deps.store.putUnwatched(mark);
    await deps.store.putNotifications([unwatchedNotification(mark, nowMs)]);
    await deps.store.putUnwatched({ ...mark, notified: true });
    marks.set(mark.accountId, mark);
  }
  return marks.size;
}
