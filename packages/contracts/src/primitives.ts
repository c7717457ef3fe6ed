import { z } from "zod";

// Decimal strings only: JSON numbers are refused because a double has already lost the digits a
// risk desk typed (0.1 + 0.2 ≠ 0.3). Exponent notation is refused so every amount reads the same.
const DECIMAL_PATTERN = /^-?(0|[1-9]\d*)(\.\d+)?$/;

function decimalString(expected: string, accept: (value: string) => boolean) {
  return z
    .string({ error: `expected ${expected}` })
    .refine((value) => DECIMAL_PATTERN.test(value) && accept(value), {
      error: `expected ${expected}`,
    });
}

const isNegative = (value: string) => value.startsWith("-") && /[1-9]/.test(value);
const isZero = (value: string) => !/[1-9]/.test(value);

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
export const PositiveInteger = z.number({ error: "expected a positive integer" }).int().positive();
