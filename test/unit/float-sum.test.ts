import { ExactFloatSum } from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const sumOf = (values: readonly number[]) => {
  const sum = new ExactFloatSum();
  for (const v of values) sum.add(v);
  return sum;
};

describe("ExactFloatSum", () => {
  it("sums exactly where float addition loses digits (Python's math.fsum examples)", () => {
    expect(sumOf(Array(10).fill(0.1)).value()).toBe(1);
    expect(sumOf([1e100, 1, -1e100]).value()).toBe(1);
    // 2^53 + 1 + 1: each naive step rounds the 1 away; the exact sum 2^53 + 2 is a double.
    expect(sumOf([2 ** 53, 1, 1]).value()).toBe(2 ** 53 + 2);
    expect(sumOf([]).value()).toBe(0);
    // Cancelling values sum to +0 in any order (fast-check found −0 from [−0] merged into [0]).
    expect(Object.is(sumOf([-0]).value(), 0)).toBe(true);
    expect(Object.is(sumOf([1, -1]).value(), 0)).toBe(true);
  });

  it("rounds a tie the way the rest of the sum leans (half-even only on an exact tie)", () => {
    // 2^53 + 1 is a tie between 2^53 and 2^53 + 2; the extra 2^-60 makes it round up.
    expect(sumOf([2 ** 53, 1, 2 ** -60]).value()).toBe(2 ** 53 + 2);
    expect(sumOf([2 ** 53, 1]).value()).toBe(2 ** 53);
  });

  it("does not depend on the order of the values, nor on how they are split and merged", () => {
    const values = fc.array(fc.double({ min: -1e12, max: 1e12, noNaN: true }), { maxLength: 40 });
    fc.assert(
      fc.property(values, fc.nat(40), (xs, cut) => {
        const whole = sumOf(xs).value();
        expect(sumOf([...xs].reverse()).value()).toBe(whole);
        const merged = sumOf(xs.slice(cut));
        merged.merge(JSON.parse(JSON.stringify(sumOf(xs.slice(0, cut)).parts())));
        expect(merged.value()).toBe(whole);
      }),
      { numRuns: 1000 },
    );
  });
});
