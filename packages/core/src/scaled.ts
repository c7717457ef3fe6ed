import type { AccountStatus, MarginTotals } from "./account.ts";
import type { Decimal } from "./decimal.ts";
import { type DividedInitial, FixedTotals, fromFixed } from "./kernel.ts";

/**
 * Account totals as exact integers at scale 54 (units of 10^-54 USD), the kernel's own
 * representation, for callers that compare and sum many of them (the stress engine) without
 * building a Decimal per account. IM may carry an exact fraction (non-terminating leverages).
 */
export interface ScaledTotals {
  equity: bigint;
  initial: bigint;
  initialFraction: DividedInitial;
  maintenance: bigint;
}

const UNIT54 = 10n ** 54n;
const NO_FRACTION: DividedInitial = { numerator: 0n, denominator: 1n, legs: [] };

/** A Decimal at scale 54, truncated toward zero past 54 decimals (far below every output digit). */
function decimalToScaled(value: Decimal): bigint {
  return BigInt(value.times(UNIT54.toString()).toFixed(0, 1));
}

export function scaledTotals(totals: MarginTotals): ScaledTotals {
  if (totals instanceof FixedTotals) {
    return {
      equity: totals.collateral54 + totals.pnl54,
      initial: totals.initial54,
      initialFraction: totals.divided,
      maintenance: totals.maintenance54,
    };
  }
  return {
    equity: decimalToScaled(totals.equity),
    initial: decimalToScaled(totals.initialMargin),
    initialFraction: NO_FRACTION,
    maintenance: decimalToScaled(totals.maintenanceMargin),
  };
}

/**
 * A model float (Black-76 option sums in stress) at scale 54, through the same 15 significant
 * digits as `fromModelFloat`: the one float → exact boundary, without building a Decimal.
 */
export function scaledFromFloat(value: number): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`model value is not finite: ${value}`);
  if (value === 0) return 0n;
  const [mantissa = "0", exponentText = "0"] = value.toExponential(14).split("e");
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const shift = Number(exponentText) - 14 + 54;
  const magnitude =
    shift >= 0 ? BigInt(digits) * 10n ** BigInt(shift) : BigInt(digits) / 10n ** BigInt(-shift);
  return negative ? -magnitude : magnitude;
}

/** DESIGN §3.3's status on scaled totals: integer comparisons only. */
export function scaledStatus(t: ScaledTotals, warningBuffer54: bigint): AccountStatus {
  if (t.equity < t.maintenance) return "LIQUIDATION";
  const { numerator, denominator } = t.initialFraction;
  const initialScaled = t.initial * denominator + numerator;
  if (t.equity * denominator < initialScaled) return "MARGIN_CALL";
  return t.equity * denominator * UNIT54 < initialScaled * (UNIT54 + warningBuffer54) ? "WARNING" : "HEALTHY";
}

export function toScaled(value: Decimal): bigint {
  return decimalToScaled(value);
}

export function scaledToDecimal(value: bigint): Decimal {
  return fromFixed(value, 3);
}

const OUTPUT_UNIT = 10n ** 46n; // scale 54 → 8 decimals

/** An 8-decimal string straight from scale 54, rounded like requirementString / valueString. */
export function formatScaled(value: bigint, rounding: "up" | "down"): string {
  let units = value / OUTPUT_UNIT; // truncates toward zero
  const remainder = value - units * OUTPUT_UNIT;
  if (remainder !== 0n && rounding === "up" && value > 0n) units += 1n;
  if (remainder !== 0n && rounding === "down" && value < 0n) units -= 1n;
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(9, "0");
  const whole = digits.slice(0, -8);
  const fraction = digits.slice(-8).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== "0" ? `-${text}` : text;
}
