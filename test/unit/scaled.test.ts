import {
  Decimal,
  formatScaled,
  fromModelFloat,
  requirementString,
  scaledFromFloat,
  scaledStatus,
  toScaled,
  valueString,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalString } from "../helpers/arbitraries.ts";

describe("scale-54 integers", () => {
  it("format exactly like requirementString (up) and valueString (down)", () => {
    fc.assert(
      fc.property(decimalString(-1e9, 1e9, 12), (text) => {
        const value = new Decimal(text);
        expect(formatScaled(toScaled(value), "up")).toBe(requirementString(value));
        expect(formatScaled(toScaled(value), "down")).toBe(valueString(value));
      }),
      { numRuns: 500 },
    );
    expect(formatScaled(toScaled(new Decimal("-0.000000001")), "up")).toBe("0");
    expect(formatScaled(toScaled(new Decimal("-0.000000001")), "down")).toBe("-0.00000001");
  });

  it("take a model float through the same 15 significant digits as fromModelFloat", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e16, max: 1e16, noNaN: true }), (x) => {
        expect(scaledFromFloat(x)).toBe(toScaled(fromModelFloat(x)));
      }),
      { numRuns: 500 },
    );
  });

  it("round a float that lies on or next to a 15-digit tie as toExponential does", () => {
    // d.dddddddddddddd5 × 10^e and its neighbouring floats: the cases the one-multiplication
    // rounding hands to the text path, and powers of ten where log10 can be one off.
    const ties = fc
      .tuple(fc.integer({ min: 1e14, max: 1e15 - 1 }), fc.integer({ min: -9, max: 13 }))
      .chain(([digits, exponent]) => {
        const tie = Number(`${digits}5e${exponent - 15}`);
        return fc.constantFrom(
          tie,
          nextFloat(tie, 1),
          nextFloat(tie, -1),
          10 ** exponent,
          nextFloat(10 ** exponent, -1),
        );
      });
    fc.assert(
      fc.property(ties, fc.boolean(), (x, negative) => {
        const value = negative ? -x : x;
        expect(scaledFromFloat(value)).toBe(toScaled(fromModelFloat(value)));
      }),
      { numRuns: 2000 },
    );
  });

  it("decide WARNING against IM × (1 + buffer) as the Decimal path does, on and next to the line", () => {
    // Equity exactly at IM × (1 + buffer) is HEALTHY; one unit of 10^-54 below is WARNING. Far from
    // the line a float comparison decides, near it the integers do. (Against scale-54 integers of
    // up to 70 digits: statusOf's Decimals would round past 50.)
    const unit = 10n ** 54n;
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 70n }),
        // A buffer parameter has at most 18 decimals.
        fc.bigInt({ min: 0n, max: 10n ** 18n }).map((buffer18) => buffer18 * 10n ** 36n),
        fc.oneof(fc.constantFrom(-1n, 0n, 1n), fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n })),
        (initial, buffer54, offset) => {
          // The line at scale 54 is initial × (1 + buffer): exact when 10^54 divides the product.
          const line = (initial * (unit + buffer54)) / unit;
          const equity = line + offset;
          if (equity < initial) return;
          const totals = {
            equity,
            initial,
            maintenance: 0n,
            initialFraction: { numerator: 0n, denominator: 1n, legs: [] },
          };
          // The definition, in integers: equity < IM × (1 + buffer) ⟺ e·10^54 < i·(10^54 + b).
          const expected = equity * unit < initial * (unit + buffer54) ? "WARNING" : "HEALTHY";
          expect(scaledStatus(totals, buffer54)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** The float next to x, up or down. */
function nextFloat(x: number, direction: 1 | -1): number {
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] = (bits[0] as bigint) + BigInt(direction);
  return new Float64Array(bits.buffer)[0] as number;
}
