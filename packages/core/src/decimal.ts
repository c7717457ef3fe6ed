import DecimalJs from "decimal.js";

/**
 * The one Decimal constructor of the engine. 50 significant digits keep every product of an
 * 18-decimal token amount and a price exact; only divisions (IM = notional / leverage) can round,
 * and they round 40+ digits below the 8 dp that the output shows.
 */
export const Decimal = DecimalJs.clone({
  precision: 50,
  rounding: DecimalJs.ROUND_HALF_UP,
  toExpNeg: -30,
  toExpPos: 40,
});
export type Decimal = InstanceType<typeof Decimal>;

export const ZERO = new Decimal(0);

/**
 * Book-wide sums are kept at 200 significant digits. Per-account figures can carry 50 (requirement
 * divisions truncate there), so a 50-digit running sum would round its last digit differently
 * by account order, and a total on an 8-decimal boundary would print differently. At 200 digits
 * the sums are exact, so a report does not depend on the order (or the shards) accounts arrive in.
 */
export const Wide = Decimal.clone({ precision: 200 });
export const WIDE_ZERO: Decimal = new Wide(0);
export const ONE = new Decimal(1);

export const OUTPUT_DECIMALS = 8;

/** Requirements (IM, MM, call amounts) round up at output: never understate what is owed. */
export function requirementString(value: Decimal): string {
  return value.toDecimalPlaces(OUTPUT_DECIMALS, Decimal.ROUND_CEIL).toFixed();
}

/** Values (collateral, equity, PnL) round down at output: never overstate what backs a position. */
export function valueString(value: Decimal): string {
  return value.toDecimalPlaces(OUTPUT_DECIMALS, Decimal.ROUND_FLOOR).toFixed();
}

/** Quantities that are neither (notional, shares) round half-even. */
export function neutralString(value: Decimal): string {
  return value.toDecimalPlaces(OUTPUT_DECIMALS, Decimal.ROUND_HALF_EVEN).toFixed();
}

export function dmax(a: Decimal, b: Decimal): Decimal {
  return a.gte(b) ? a : b;
}

export function dmin(a: Decimal, b: Decimal): Decimal {
  return a.lte(b) ? a : b;
}

/**
 * The one boundary where model maths in float64 (Black-76, stress simulation) enters exact
 * money: the float is printed with 15 significant digits (what a double reliably carries) and
 * parsed as a Decimal, so the conversion is deterministic and never invents digits.
 */
export function fromModelFloat(value: number): Decimal {
  if (!Number.isFinite(value)) throw new RangeError(`model value is not finite: ${value}`);
  return new Decimal(value.toPrecision(15));
}

const DecimalDown = Decimal.clone({ rounding: Decimal.ROUND_DOWN });

/**
 * a / b truncated toward zero at 50 significant digits. Requirements (IM = notional / leverage,
 * IM = MM / mmFactor, MM / equity) are divided this way and rounded up at output, so a quotient
 * that is exactly on the 8-decimal grid (75 / 75 = 1, or a sum of thirds) never prints one unit
 * too high; a quotient off the grid is farther from it than the truncation error.
 */
export function divideDown(a: Decimal, b: Decimal): Decimal {
  return new Decimal(new DecimalDown(a).div(b));
}

// Every 10^k up to 10^22 is an exact float (parsed, not computed).
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const SAFE_BEFORE_WORD = Number.MAX_SAFE_INTEGER / 1e7;

/**
 * `value.toNumber()`, bit for bit, without its string round trip where that is certain: a
 * coefficient below 2^53 and a power of ten up to 10^22 are exact floats, so their one product or
 * quotient is the correctly rounded value, as parsing is (Clinger's fast path). Read from
 * decimal.js's documented internal form; anything else goes through `toNumber`.
 */
export function decimalFloat(value: Decimal): number {
  const words = value.d as number[] | null;
  if (!words) return value.toNumber();
  let coefficient = 0;
  for (let i = 0; i < words.length; i++) {
    if (coefficient >= SAFE_BEFORE_WORD) return value.toNumber();
    coefficient = coefficient * 1e7 + (words[i] as number);
  }
  // Exponent of the last word's unit: the value is Σ words[i] · 10^(7·(top − i)).
  const exponent = 7 * (Math.floor(value.e / 7) - (words.length - 1));
  let magnitude: number;
  if (exponent >= 0 && exponent <= 22) magnitude = coefficient * (EXACT_POWERS[exponent] as number);
  else if (exponent < 0 && exponent >= -22) magnitude = coefficient / (EXACT_POWERS[-exponent] as number);
  else return value.toNumber();
  return value.s < 0 ? -magnitude : magnitude;
}

const WORD_DIGITS = 7;

/**
 * A Decimal from a plain decimal string the input schema has already checked (`-?digits(.digits)?`,
 * at most 18 + 18 digits): the digits go straight into decimal.js's documented form (sign `s`,
 * exponent `e`, base-10^7 words `d`, the first word holding the digits down to an exponent that is
 * a multiple of 7) as its own parser places them, without its format scans and string slices.
 * Parsing a page of accounts builds a dozen Decimals per account.
 */
export function plainDecimal(text: string): Decimal {
  const x = new Decimal(0);
  const mutable = x as unknown as { s: number; e: number; d: number[] };
  const negative = text.charCodeAt(0) === 45;
  mutable.s = negative ? -1 : 1;
  const length = text.length;
  let point = text.indexOf(".");
  if (point < 0) point = length;
  // The first and last significant digits (not zeros), and the exponent of the first.
  let first = negative ? 1 : 0;
  while (first < length && (text.charCodeAt(first) === 48 || first === point)) first++;
  if (first === length) return x; // zero (−0 keeps its sign, as decimal.js's parser keeps it)
  let last = length - 1;
  while (text.charCodeAt(last) === 48 || last === point) last--;
  const e = first < point ? point - first - 1 : point - first;
  mutable.e = e;
  // The first word ends at the digit of exponent 7·floor(e / 7).
  let left = (((e % WORD_DIGITS) + WORD_DIGITS) % WORD_DIGITS) + 1;
  const words: number[] = [];
  let word = 0;
  for (let i = first; i <= last; i++) {
    if (i === point) continue;
    word = word * 10 + (text.charCodeAt(i) - 48);
    if (--left === 0) {
      words.push(word);
      word = 0;
      left = WORD_DIGITS;
    }
  }
  if (left !== WORD_DIGITS) words.push(word * 10 ** left);
  mutable.d = words;
  return x;
}
