import {
  Decimal,
  formatScaled,
  fromModelFloat,
  requirementString,
  scaledFromFloat,
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
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (x) => {
        expect(scaledFromFloat(x)).toBe(toScaled(fromModelFloat(x)));
      }),
      { numRuns: 500 },
    );
  });
});
