import { Decimal, toFixed18 } from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** The definition: the value times 10^18 when that is an integer, else null. */
const byArithmetic = (value: Decimal) => {
  const scaled = value.times("1e18");
  return scaled.isInteger() ? BigInt(scaled.toFixed()) : null;
};

describe("toFixed18 (the kernel's conversion, read from decimal.js's digit words)", () => {
  it("equals value × 10^18 for any sign, magnitude and number of decimals, and is null past 18", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
        fc.integer({ min: -45, max: 30 }),
        (coefficient, exponent) => {
          const value = new Decimal(`${coefficient}e${exponent}`);
          expect(toFixed18(value)).toBe(byArithmetic(value));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it("reads amounts as a book holds them", () => {
    expect(toFixed18(new Decimal("21367.12"))).toBe(21_367_120_000_000_000_000_000n);
    expect(toFixed18(new Decimal("-4.4529"))).toBe(-4_452_900_000_000_000_000n);
    expect(toFixed18(new Decimal("0.000000000000000001"))).toBe(1n);
    expect(toFixed18(new Decimal("0.0000000000000000001"))).toBeNull();
    expect(toFixed18(new Decimal("1e30"))).toBe(10n ** 48n);
    expect(toFixed18(new Decimal("0"))).toBe(0n);
  });
});
