/**
 * When attempt n + 1 is due after attempt n failed (DESIGN §5, Svix's schedule): immediately, then
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. Eight attempts in all; after the last the
 * notification is parked as failed (replayable).
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length;
/** A 429's Retry-After is honoured up to this much (a day); beyond, the schedule applies. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** The time of the next attempt after `attempts` failed ones, or null when the schedule is done. */
export function nextAttemptAt(attempts: number, nowMs: number, retryAfterMs?: number): number | null {
  const delay = RETRY_DELAYS_MS[attempts];
  if (delay === undefined) return null;
  const honoured = retryAfterMs !== undefined ? Math.min(retryAfterMs, MAX_RETRY_AFTER_MS) : 0;
  return nowMs + Math.max(delay, honoured);
}

/** Retry-After as seconds or an HTTP date, in ms from `nowMs`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
