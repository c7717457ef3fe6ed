import { z } from "zod";

// Decimal strings only: JSON numbers are refused because a double has already lost the digits a
// risk desk typed (0.1 + 0.2 ≠ 0.3). Exponent notation is refused so every amount reads the same.
const DECIMAL_PATTERN = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/**
 * Every decimal input has at most 18 digits before the point and 18 after: below 10^18 in
 * magnitude (more than any token supply or USD amount a book holds; BabyDoge's whole supply is
 * 4.2 × 10^17) and to 10^-18 (an ether's wei). The product of two such values and a book's sums
 * stay within the 50 significant digits Decimal computes with, and a single string can no longer
 * make an evaluation work through 100,000 digits.
 */
export const DECIMAL_BOUNDS = { integerDigits: 18, fractionDigits: 18 } as const;
const BOUNDED_DECIMAL = new RegExp(
  `^-?(0|[1-9]\\d{0,${DECIMAL_BOUNDS.integerDigits - 1}})(\\.\\d{1,${DECIMAL_BOUNDS.fractionDigits}})?$`,
);
const BOUNDS_TEXT = `at most ${DECIMAL_BOUNDS.integerDigits} digits before the point and ${DECIMAL_BOUNDS.fractionDigits} after, no exponent`;

function decimalString(expected: string, accept: (value: string) => boolean) {
  // A plain check on zod's payload: every amount of every account passes through it, and
  // superRefine would add a closure to each payload first.
  return z.string({ error: `expected ${expected}` }).check((payload) => {
    const value = payload.value;
    // Most values pass: one pattern decides them; the others are told which rule they broke.
    if (BOUNDED_DECIMAL.test(value) && accept(value)) return;
    const message =
      !DECIMAL_PATTERN.test(value) || !accept(value)
        ? `expected ${expected}`
        : `expected ${expected} with ${BOUNDS_TEXT}`;
    payload.issues.push({ code: "custom", message, input: value, continue: true });
  });
}

/** An output amount (a report's sum over a book may be past the input bounds). */
export const DecimalText = z
  .string()
  .refine((value) => DECIMAL_PATTERN.test(value), { error: "expected a decimal string" });

// Hoisted: a regex literal inside the arrow would be a new RegExp object on every call.
const NONZERO_DIGIT = /[1-9]/;
const isNegative = (value: string) => value.startsWith("-") && NONZERO_DIGIT.test(value);
const isZero = (value: string) => !NONZERO_DIGIT.test(value);

export const DecimalString = decimalString("a decimal string", () => true);
export const NonNegativeDecimalString = decimalString("a non-negative decimal string", (v) => !isNegative(v));
export const PositiveDecimalString = decimalString(
  "a positive decimal string",
  (v) => !isNegative(v) && !isZero(v),
);
/** A fraction in [0, 1], e.g. a haircut or a margin rate. */
export const FractionString = decimalString(
  "a decimal string between 0 and 1",
  (v) => !isNegative(v) && (Number(v) < 1 || /^1(\.0+)?$/.test(v)),
);

export const Timestamp = z.iso.datetime({ offset: true, error: "expected an ISO 8601 timestamp" });
export const AssetSymbol = z
  .string({ error: "expected an asset symbol" })
  .regex(/^[A-Za-z0-9._-]{1,32}$/, { error: "expected an asset symbol (letters, digits, . _ -)" });

/**
 * A record keyed by asset symbol. zod drops a `"__proto__"` key without a word (it would set the
 * result's prototype), so an amount sent under it would vanish: it is refused instead, by name.
 */
export const assetRecord = <V extends z.ZodType>(value: V) =>
  z.preprocess(
    (input, ctx) => {
      if (input !== null && typeof input === "object" && Object.hasOwn(input, "__proto__"))
        ctx.addIssue({
          code: "custom",
          path: ["__proto__"],
          message: "expected an asset symbol, not __proto__",
          input,
        });
      return input;
    },
    z.record(AssetSymbol, value),
  );
export const PositiveInteger = z.number({ error: "expected a positive integer" }).int().positive();

/** A count or a duration with a ceiling: a parameter past it could make a job run for ever. */
export const boundedNumber = (expected: string, min: number, max: number, integer = false) => {
  const base = z.number({ error: `expected ${expected}` });
  return (integer ? base.int({ error: `expected ${expected}` }) : base)
    .min(min, { error: `expected ${expected}, at least ${min}` })
    .max(max, { error: `expected ${expected}, at most ${max}` });
};

/**
 * Ids that become keys, file names and CSV cells: 1–128 characters, letters, digits and `_ . : @ ~ -`,
 * starting with a letter, a digit or `_`. So no path separator, no key separator (`#`), nothing a
 * spreadsheet reads as a formula (a leading `=`, `+`, `-` or `@`), no control or invisible characters.
 */
export const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:@~-]{0,127}$/;
export const Identifier = (what: string) =>
  z.string({ error: `expected ${what}` }).regex(ID_PATTERN, {
    error: `expected ${what}: 1-128 letters, digits or _ . : @ ~ -, starting with a letter, a digit or _`,
  });

/**
 * Free names (instruments, sources, labels): printable text, no control characters, not starting
 * with a character a spreadsheet reads as a formula.
 */
export const Name = (what: string, max: number) =>
  z
    .string({ error: `expected ${what}` })
    .min(1, { error: `expected ${what}` })
    .max(max, { error: `expected ${what} of at most ${max} characters` })
    .regex(/^[^=+\-@\t\r\p{Cc}\p{Cf}][^\p{Cc}\p{Cf}]*$/u, {
      error: `expected ${what}: printable, not starting with = + - @`,
    });
