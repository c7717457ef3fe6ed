import { Decimal, ONE } from "./decimal.ts";
import type { RiskParams } from "./params.ts";

export interface PriceUpdate {
  eventId: string;
  asset: string;
  index: Decimal;
  mark: Decimal;
  timestampMs: number;
  sequence: number | null;
  source: string;
}

export type GuardOutcome =
  | { kind: "accept"; reason: "first" | "normal" | "confirmed-jump" }
  | { kind: "hold"; reason: "jump" }
  | { kind: "reject"; reason: "stale" | "out-of-order" | "future" };

export interface PriceGuardParams {
  maxPriceAgeSeconds: number;
  maxJump: Decimal;
  confirmAfterSeconds: number;
  maxFutureSkewSeconds: number;
}

/** A price stamped further ahead of the engine's clock than this is refused (unless the params say otherwise). */
export const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 5;
/** A mark further than this from its index is evaluated at the bound (DESIGN §3.10). */
export const DEFAULT_MAX_MARK_DEVIATION = "0.1";

/**
 * The mark to evaluate at: the mark itself within `index × (1 ± maxDeviation)`, else the bound it
 * crossed (a squeezed or manipulated perp mark cannot call or cure accounts beyond it). `guarded`
 * says the bound was used; the snapshot keeps the raw mark.
 */
export function boundedMark(
  index: Decimal,
  mark: Decimal,
  maxDeviation: Decimal,
): { mark: Decimal; guarded: boolean } {
  const low = index.times(ONE.minus(maxDeviation));
  const high = index.times(ONE.plus(maxDeviation));
  if (mark.lt(low)) return { mark: low, guarded: true };
  if (mark.gt(high)) return { mark: high, guarded: true };
  return { mark, guarded: false };
}

/** The params' mark bound. */
export const maxMarkDeviationOf = (params: RiskParams) =>
  new Decimal(params.document.priceGuards.maxMarkDeviation ?? DEFAULT_MAX_MARK_DEVIATION);

export function priceGuardParams(params: RiskParams): PriceGuardParams {
  const guards = params.document.priceGuards;
  return {
    maxPriceAgeSeconds: guards.maxPriceAgeSeconds,
    maxJump: new Decimal(guards.maxJump),
    confirmAfterSeconds: guards.confirmAfterSeconds,
    maxFutureSkewSeconds: guards.maxFutureSkewSeconds ?? DEFAULT_MAX_FUTURE_SKEW_SECONDS,
  };
}

/**
 * By sequence when both have one, else by timestamp. An update stamped more than
 * maxPriceAgeSeconds after `than` is newer whatever its sequence: `than` is stale by the update's
 * own clock. A feed that restarts its numbering, or one bogus sequence number, then holds the
 * asset back at most that long instead of for good.
 */
const isNewer = (update: PriceUpdate, than: PriceUpdate, guards: PriceGuardParams) =>
  update.timestampMs - than.timestampMs > guards.maxPriceAgeSeconds * 1000 ||
  (update.sequence !== null && than.sequence !== null
    ? update.sequence > than.sequence
    : update.timestampMs > than.timestampMs);

const jump = (from: Decimal, to: Decimal) =>
  from.isZero() ? new Decimal(Infinity) : to.minus(from).abs().div(from);

/**
 * DESIGN §3.6 price guards for one update against the last accepted price of its asset (and a
 * held jump, if any):
 * - older than maxPriceAgeSeconds at `nowMs` → rejected as stale;
 * - stamped more than maxFutureSkewSeconds after `nowMs` → rejected as future: accepted, it would
 *   become the latest price and every real price after it would be refused as out of order;
 * - not newer than the last accepted (see isNewer) → rejected as out of order;
 * - a mark move larger than maxJump → held, unless it confirms a held jump (within maxJump of the
 *   held price, arriving after it), or the held price has stood confirmAfterSeconds and this
 *   update agrees with it.
 */
export function guardPrice(
  update: PriceUpdate,
  latest: PriceUpdate | null,
  held: PriceUpdate | null,
  nowMs: number,
  guards: PriceGuardParams,
): GuardOutcome {
  if (nowMs - update.timestampMs > guards.maxPriceAgeSeconds * 1000)
    return { kind: "reject", reason: "stale" };
  if (update.timestampMs - nowMs > guards.maxFutureSkewSeconds * 1000)
    return { kind: "reject", reason: "future" };
  if (!latest) return { kind: "accept", reason: "first" };
  if (!isNewer(update, latest, guards)) return { kind: "reject", reason: "out-of-order" };
  if (jump(latest.mark, update.mark).lte(guards.maxJump)) return { kind: "accept", reason: "normal" };
  if (
    held &&
    held.eventId !== update.eventId &&
    isNewer(update, held, guards) &&
    jump(held.mark, update.mark).lte(guards.maxJump)
  ) {
    return { kind: "accept", reason: "confirmed-jump" };
  }
  return { kind: "hold", reason: "jump" };
}
