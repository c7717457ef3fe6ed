import { black76, black76Price, impliedVol, normalCdf } from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Reference values: Haug, "Option Pricing Formulas" (1998) as encoded in QuantLib's
// test-suite/europeanoption.cpp, and Hull's textbook examples (reference/margin-methodology.md §5).
// With cost of carry b = r the generalised BSM formula is Black-76 on F = S·e^{bT} discounted at r;
// with q = r (b = 0) it is Black-76 on F = S.

describe("normal CDF", () => {
  it("matches tabulated values", () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.841344746068543, 14);
    expect(normalCdf(-1.96)).toBeCloseTo(0.0249978951482204, 14);
  });
});

describe("Black-76 prices", () => {
  const grid = (forward: number, type: "call" | "put") =>
    black76({ type, forward, strike: 100, years: 0.5, vol: 0.25, rate: 0.1 }).price;

  it.each([
    [90, 2.7026, 12.2149],
    [100, 6.6997, 6.6997],
    [110, 12.7857, 3.2734],
  ])("Haug grid (q = r = 10%%, K 100, T 0.5, σ 25%%) S = %d → call %d, put %d", (s, call, put) => {
    expect(grid(s, "call")).toBeCloseTo(call, 4);
    expect(grid(s, "put")).toBeCloseTo(put, 4);
  });

  it("Hull's Black-76 futures put: F = K = 20, r 9%, T 4/12, σ 25% → 1.1166", () => {
    expect(
      black76({ type: "put", forward: 20, strike: 20, years: 4 / 12, vol: 0.25, rate: 0.09 }).price,
    ).toBeCloseTo(1.1166, 4);
  });

  it("Deribit-style ATM call: F = K = 100,000, 30 days, 60% → 6,853.94 USD", () => {
    expect(
      black76({ type: "call", forward: 100000, strike: 100000, years: 30 / 365, vol: 0.6 }).price,
    ).toBeCloseTo(6853.94, 2);
  });

  it("Hull greeks example S 49, K 50, r 5%, σ 20%, T 20/52 (F = S·e^{rT}) → call 2.4005", () => {
    const T = 20 / 52;
    const result = black76({
      type: "call",
      forward: 49 * Math.exp(0.05 * T),
      strike: 50,
      years: T,
      vol: 0.2,
      rate: 0.05,
    });
    expect(result.price).toBeCloseTo(2.4005, 4);
    // ∂C/∂S = ∂C/∂F · e^{rT}; vega is the same in S and F terms.
    expect(result.delta * Math.exp(0.05 * T)).toBeCloseTo(0.5216, 4);
    expect(result.gamma * Math.exp(2 * 0.05 * T)).toBeCloseTo(0.0655, 4);
    expect(result.vega).toBeCloseTo(12.105, 3);
  });

  it("put-call parity with r = 0: C − P = F − K", () => {
    const inputs = { forward: 105000, strike: 98000, years: 0.3, vol: 0.7 };
    const call = black76({ type: "call", ...inputs }).price;
    const put = black76({ type: "put", ...inputs }).price;
    expect(call - put).toBeCloseTo(7000, 8);
  });
});

describe("Black-76 greeks", () => {
  it("Haug delta: K 100, S 105, q = r = 10%, T 0.5, σ 36% → call 0.5946, put −0.3566", () => {
    const inputs = { forward: 105, strike: 100, years: 0.5, vol: 0.36, rate: 0.1 };
    expect(black76({ type: "call", ...inputs }).delta).toBeCloseTo(0.5946, 4);
    expect(black76({ type: "put", ...inputs }).delta).toBeCloseTo(-0.3566, 4);
  });

  it("Haug gamma and vega: K 60, S 55, q 0, r 10%, T 0.75, σ 30% → Γ 0.0278, vega 18.9358", () => {
    const T = 0.75;
    const result = black76({
      type: "call",
      forward: 55 * Math.exp(0.1 * T),
      strike: 60,
      years: T,
      vol: 0.3,
      rate: 0.1,
    });
    expect(result.gamma * Math.exp(2 * 0.1 * T)).toBeCloseTo(0.0278, 4);
    expect(result.vega).toBeCloseTo(18.9358, 4);
  });

  it("theta (r = 0) is −F·n(d1)·σ / (2√T) and equals minus the time derivative of the price", () => {
    const at = (years: number) => black76({ type: "put", forward: 3000, strike: 2800, years, vol: 0.8 });
    const h = 1e-6;
    const numeric = -(at(0.25 + h).price - at(0.25 - h).price) / (2 * h);
    expect(at(0.25).theta).toBeCloseTo(numeric, 4);
    // hand formula: d1 = (ln(3000/2800) + 0.32 × 0.25)/(0.8 × 0.5)
    const d1 = (Math.log(3000 / 2800) + 0.5 * 0.64 * 0.25) / 0.4;
    const pdf = Math.exp(-0.5 * d1 * d1) / Math.sqrt(2 * Math.PI);
    expect(at(0.25).theta).toBeCloseTo((-3000 * pdf * 0.8) / (2 * 0.5), 8);
  });
});

describe("implied volatility", () => {
  it("recovers the volatility that produced a price", () => {
    const price = black76({ type: "call", forward: 100000, strike: 110000, years: 0.2, vol: 0.55 }).price;
    expect(impliedVol("call", 100000, 110000, 0.2, price)).toBeCloseTo(0.55, 9);
  });

  it("has none for a price below intrinsic value", () => {
    expect(impliedVol("call", 120, 100, 0.5, 10)).toBeUndefined();
  });
});

describe("Black-76 price alone", () => {
  it("is black76's price at r = 0 to the last bit, expired and zero-vol options included", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("call" as const, "put" as const),
        fc.double({ min: 0.01, max: 1e7, noNaN: true }),
        fc.double({ min: 0.01, max: 1e7, noNaN: true }),
        fc.double({ min: -0.1, max: 3, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (type, forward, strike, years, vol) => {
          expect(
            Object.is(
              black76Price(type, forward, strike, years, vol),
              black76({ type, forward, strike, years, vol }).price,
            ),
          ).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
