import type { AccountStatus, MarginTotals } from "./account.ts";
import { Decimal, OUTPUT_DECIMALS } from "./decimal.ts";
import {
  type DividedInitial,
  decimalDigits,
  digitCount,
  FixedTotals,
  fromFixed,
  powerOfTen,
} from "./kernel.ts";

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
  const negative = value < 0;
  const magnitude =
    fifteenDigits(negative ? -value : value) ?? fifteenDigitsByText(negative ? -value : value);
  return negative ? -magnitude : magnitude;
}

/**
 * The 15-digit rounding of a positive float at scale 54 by one float multiplication: x = v·10^k
 * lands in [10^14, 10^15) with an error of at most half an ulp of x, so Math.round(x) is the
 * correctly rounded digit count unless x is within that error of a half-integer. Null then (about
 * one value in ten), and outside 10^-8 ≤ v < 10^15 where 10^k is not an exact float.
 */
function fifteenDigits(value: number): bigint | null {
  let exponent = Math.floor(Math.log10(value));
  let k = 14 - exponent;
  if (k < 0 || k > 22) return null;
  let x = value * (FLOAT_POWERS[k] as number);
  // log10 can be one off next to a power of ten.
  if (x >= 1e15) {
    if (k === 0) return null;
    exponent++;
    k--;
    x = value * (FLOAT_POWERS[k] as number);
  } else if (x < 1e14) {
    if (k === 22) return null;
    exponent--;
    k++;
    x = value * (FLOAT_POWERS[k] as number);
  }
  if (x < 1e14 || x >= 1e15) return null;
  const halfUlp = x < 2 ** 47 ? 2 ** -7 : x < 2 ** 48 ? 2 ** -6 : x < 2 ** 49 ? 2 ** -5 : 2 ** -4;
  const below = Math.floor(x);
  if (Math.abs(x - below - 0.5) <= halfUlp) return null;
  // toExponential rounds a tie up, so Math.round's half-up agrees wherever the tie is not in doubt.
  const digits = BigInt(Math.round(x));
  const shift = exponent - 14 + 54;
  return shift >= 0 ? digits * powerOfTen(shift) : digits / powerOfTen(-shift);
}

// Parsed, not computed: every 10^k up to 10^22 is an exact float.
const FLOAT_POWERS = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** "d.dddddddddddddde±x": the 15 digits fit a float exactly, so they go to BigInt as one number. */
function fifteenDigitsByText(value: number): bigint {
  const text = value.toExponential(14);
  const e = text.indexOf("e");
  const digits = Number(text[0] + text.slice(2, e));
  const shift = Number(text.slice(e + 1)) - 14 + 54;
  return shift >= 0 ? BigInt(digits) * powerOfTen(shift) : BigInt(digits) / powerOfTen(-shift);
}

/** DESIGN §3.3's status on scaled totals: integer comparisons only. */
export function scaledStatus(t: ScaledTotals, warningBuffer54: bigint): AccountStatus {
  if (t.equity < t.maintenance) return "LIQUIDATION";
  const { numerator, denominator } = t.initialFraction;
  const whole = denominator === 1n && numerator === 0n;
  const equity = whole ? t.equity : t.equity * denominator;
  const initial = whole ? t.initial : t.initial * denominator + numerator;
  if (equity < initial) return "MARGIN_CALL";
  // equity < IM × (1 + buffer), with the smaller products of the surplus over IM. Decided in float
  // first (two conversions instead of two 200-bit products): each side is within ~1e-15 of
  // its magnitude, so a gap past 1e-12 of it is certain; a closer one is decided exactly.
  const surplus = Number(equity - initial);
  const buffered = Number(initial) * (Number(warningBuffer54) / 1e54);
  const doubt = 1e-12 * (surplus + buffered);
  if (surplus < buffered - doubt) return "WARNING";
  if (surplus > buffered + doubt) return "HEALTHY";
  return (equity - initial) * UNIT54 < initial * warningBuffer54 ? "WARNING" : "HEALTHY";
}

export function toScaled(value: Decimal): bigint {
  return decimalToScaled(value);
}

export function scaledToDecimal(value: bigint): Decimal {
  return fromFixed(value, 3);
}

/**
 * An integer count of 10^-scale as the 8-decimal string the Decimal path prints: "ceil" like
 * requirementString, "floor" like valueString, "half-even" like neutralString.
 */
export function formatFixed(value: bigint, scale: number, rounding: "ceil" | "floor" | "half-even"): string {
  // On the digit string: cheaper than dividing a 60-digit integer.
  const negative = value < 0n;
  let digits = (negative ? -value : value).toString();
  const cut = scale - OUTPUT_DECIMALS;
  if (cut < 0) digits += "0".repeat(-cut);
  const dropped = cut > 0 ? Math.min(cut, digits.length) : 0;
  let units = digits.slice(0, digits.length - dropped) || "0";
  if (cut > 0) {
    const tail = digits.slice(digits.length - dropped).padStart(cut, "0");
    let up = false;
    if (rounding === "half-even") {
      const half = `5${zeros(cut - 1)}`;
      up = tail > half || (tail === half && (units.charCodeAt(units.length - 1) & 1) === 1);
    } else if (rounding === "ceil" ? !negative : negative) up = tail !== zeros(cut);
    if (up) units = (BigInt(units) + 1n).toString();
  }
  if (units.length <= OUTPUT_DECIMALS) units = units.padStart(OUTPUT_DECIMALS + 1, "0");
  const whole = units.slice(0, -OUTPUT_DECIMALS);
  let end = units.length;
  while (end > whole.length && units.charCodeAt(end - 1) === 48) end--;
  const text = end > whole.length ? `${whole}.${units.slice(whole.length, end)}` : whole;
  return negative && text !== "0" ? `-${text}` : text;
}

const zeroStrings: string[] = [];
const zeros = (count: number) => {
  let text = zeroStrings[count];
  if (text === undefined) {
    text = "0".repeat(count);
    zeroStrings[count] = text;
  }
  return text;
};

/** An 8-decimal string straight from scale 54, rounded like requirementString / valueString. */
export function formatScaled(value: bigint, rounding: "up" | "down"): string {
  return formatFixed(value, 54, rounding === "up" ? "ceil" : "floor");
}

const SIGNIFICANT = 50;

/**
 * numerator / denominator × 10^-scale (denominator > 0) at the Decimal path's 50 significant
 * digits, "half-up" like a Decimal division or "down" like `divideDown`: as coefficient × 10^exponent.
 */
export function quotientDigits(
  numerator: bigint,
  denominator: bigint,
  scale: number,
  rounding: "half-up" | "down",
): { coefficient: bigint; exponent: number } {
  if (numerator === 0n) return { coefficient: 0n, exponent: 0 };
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  // Enough extra digits that the integer quotient carries at least 51 significant digits.
  const shift = Math.max(0, SIGNIFICANT + 2 - (digitCount(magnitude) - digitCount(denominator)));
  let quotient = (magnitude * powerOfTen(shift)) / denominator;
  const extra = digitCount(quotient) - SIGNIFICANT;
  let exponent = -shift - scale;
  if (extra > 0) {
    const divisor = powerOfTen(extra);
    const rest = quotient % divisor;
    quotient /= divisor;
    exponent += extra;
    // Half-up: the floored quotient's dropped digits decide; a tie or more rounds away from zero.
    if (rounding === "half-up" && rest * 2n >= divisor) quotient += 1n;
  }
  return { coefficient: negative ? -quotient : quotient, exponent };
}

/** An exact amount: value × 10^-scale. */
export interface ScaledAmount {
  value: bigint;
  scale: number;
}

/** coefficient × 10^exponent (quotientDigits) as an amount with a non-negative scale. */
export function digitsAmount({
  coefficient,
  exponent,
}: {
  coefficient: bigint;
  exponent: number;
}): ScaledAmount {
  return exponent <= 0
    ? { value: coefficient, scale: -exponent }
    : { value: coefficient * powerOfTen(exponent), scale: 0 };
}

/** The exact amount of a finite Decimal (no rounding), at the smallest scale ≥ 0 that holds it. */
export function exactAmount(value: Decimal): ScaledAmount {
  const digits = decimalDigits(value);
  if (!digits) throw new RangeError(`not a finite amount: ${value}`);
  return digitsAmount(digits);
}

/** The exact amount of `fromModelFloat(value)`: the float's 15 significant digits, without a Decimal. */
export function modelAmount(value: number): ScaledAmount {
  if (!Number.isFinite(value)) throw new RangeError(`model value is not finite: ${value}`);
  const text = value.toPrecision(15);
  const e = text.indexOf("e");
  const mantissa = e < 0 ? text : text.slice(0, e);
  const point = mantissa.indexOf(".");
  const digits = point < 0 ? mantissa : mantissa.slice(0, point) + mantissa.slice(point + 1);
  const scale = (point < 0 ? 0 : mantissa.length - point - 1) - (e < 0 ? 0 : Number(text.slice(e + 1)));
  const coefficient = BigInt(digits);
  return scale >= 0 ? { value: coefficient, scale } : { value: coefficient * powerOfTen(-scale), scale: 0 };
}

/**
 * An amount as an exact Decimal: of the engine's context (its operations round at 50 digits), or
 * of the wide one (200) for a book-wide sum that later operations must not round.
 */
export function amountDecimal(amount: ScaledAmount, context: typeof Decimal = Decimal): Decimal {
  return new context(amount.scale === 0 ? amount.value.toString() : `${amount.value}e-${amount.scale}`);
}

/** An amount's integer at a scale at least its own. */
const at = (a: ScaledAmount, scale: number) =>
  a.scale === scale ? a.value : a.value * powerOfTen(scale - a.scale);

export function compareAmounts(a: ScaledAmount, b: ScaledAmount): number {
  const scale = Math.max(a.scale, b.scale);
  const x = at(a, scale);
  const y = at(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const negateAmount = (a: ScaledAmount): ScaledAmount => ({ value: -a.value, scale: a.scale });
export const absAmount = (a: ScaledAmount): ScaledAmount => (a.value < 0n ? negateAmount(a) : a);

const PRECISION_LIMIT = powerOfTen(SIGNIFICANT);

/** An exact result rounded as a Decimal operation of the engine rounds it: half-up at 50 significant digits. */
function roundedAsDecimal(value: bigint, scale: number): ScaledAmount {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  if (magnitude < PRECISION_LIMIT) return { value, scale };
  const divisor = powerOfTen(digitCount(magnitude) - SIGNIFICANT);
  let kept = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) kept += 1n;
  return { value: (negative ? -kept : kept) * divisor, scale };
}

/**
 * a + b as decimal.js adds two Decimals of the engine: exact, then rounded half-up to 50
 * significant digits. Lets a sum of integers and 50-digit quotients print as the Decimal path's.
 */
export function addAsDecimal(a: ScaledAmount, b: ScaledAmount): ScaledAmount {
  const scale = Math.max(a.scale, b.scale);
  return roundedAsDecimal(at(a, scale) + at(b, scale), scale);
}

/** a × b as decimal.js multiplies two Decimals of the engine (exact, then 50 significant digits). */
export function timesAsDecimal(a: ScaledAmount, b: ScaledAmount): ScaledAmount {
  return roundedAsDecimal(a.value * b.value, a.scale + b.scale);
}

/** The plain decimal text of an amount, as Decimal's `toFixed()` prints it (no trailing zeros). */
export function amountText({ value, scale }: ScaledAmount): string {
  if (scale === 0 || value === 0n) return value.toString();
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
  const point = digits.length - scale;
  let end = digits.length;
  while (end > point && digits.charCodeAt(end - 1) === 48) end--;
  const text = end > point ? `${digits.slice(0, point)}.${digits.slice(point, end)}` : digits.slice(0, point);
  return negative ? `-${text}` : text;
}

/**
 * An exact running sum of amounts, at the finest scale added so far: order-independent, and
 * without a Decimal per term (the exposure report adds a dozen per account).
 */
export class ExactSum {
  #value = 0n;
  #scale = 0;
  /** `context`: the Decimal context `decimal` reads the sum in (what later operations round at). */
  constructor(private readonly context: typeof Decimal = Decimal) {}
  add({ value, scale }: ScaledAmount): void {
    if (scale > this.#scale) {
      this.#value *= powerOfTen(scale - this.#scale);
      this.#scale = scale;
    }
    this.#value += scale === this.#scale ? value : value * powerOfTen(this.#scale - scale);
  }
  /** Adds a sum printed by `text` (a shard's partial). */
  addText(text: string): void {
    this.add(exactAmount(new Decimal(text)));
  }
  get amount(): ScaledAmount {
    return { value: this.#value, scale: this.#scale };
  }
  get decimal(): Decimal {
    return amountDecimal(this.amount, this.context);
  }
  text(): string {
    return amountText(this.amount);
  }
}
