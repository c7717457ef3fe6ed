import {
  accountResult,
  addAsDecimal,
  ClosedFormSolution,
  Decimal,
  decimalEvaluation,
  divideDown,
  evaluateAccount,
  FixedAccountEvaluation,
  formatFixed,
  liquidationPrice,
  liquidationString,
  neutralString,
  quotientDigits,
  requirementString,
  valueString,
  withMark,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  accountArbitrary,
  cumulativeFundingArbitrary,
  documentOf,
  pricesArbitrary,
  settledDocument,
} from "../helpers/arbitraries.ts";
import { parse } from "../helpers/portfolio.ts";

const json = (value: unknown) => JSON.stringify(value);

describe("the fixed-point evaluation (backing evaluate without --explain)", () => {
  it("prints every figure and liquidation price of the Decimal path, for random books and marks", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        accountArbitrary("a"),
        fc.constantFrom("BTC", "ETH", "SOL"),
        fc.constantFrom(0.3, 0.9, 0.999999999999, 1, 1.000000000001, 1.1, 3),
        cumulativeFundingArbitrary,
        (prices, account, asset, factor, cumulative) => {
          const portfolio = parse(settledDocument(prices, account, cumulative));
          const book = portfolio.accounts[0];
          if (!book) return;
          const { params } = portfolio;
          for (const market of [
            portfolio.market,
            withMark(portfolio.market, asset, new Decimal(prices[asset as "BTC"]).times(factor)),
          ]) {
            const fixed = evaluateAccount(book, market, params);
            expect(fixed).toBeInstanceOf(FixedAccountEvaluation);
            const decimal = decimalEvaluation(book, market, params);
            expect(json(accountResult(fixed, params))).toBe(json(accountResult(decimal, params)));
            expect(fixed.status).toBe(decimal.status);
            // The Decimals a caller reads (the exposure report) equal the Decimal path's too.
            for (const key of ["equity", "initialMargin", "maintenanceMargin"] as const)
              expect(fixed.risk[key].toDecimalPlaces(30).toFixed(), key).toBe(
                decimal.risk[key].toDecimalPlaces(30).toFixed(),
              );
            expect(fixed.callAmount.toDecimalPlaces(30).toFixed()).toBe(
              decimal.callAmount.toDecimalPlaces(30).toFixed(),
            );
            // And the closed form equals the exact bracket walk (the explain path), digit for digit.
            for (const [underlying, solution] of fixed.liquidation) {
              if (!(solution instanceof ClosedFormSolution)) continue;
              const walked = liquidationPrice(book, market, params, underlying, true);
              expect(solution.direction).toBe(walked.direction);
              expect(solution.price.toDecimalPlaces(30).toFixed()).toBe(
                walked.price?.toDecimalPlaces(30).toFixed(),
              );
              expect(liquidationString(solution)).toBe(liquidationString(walked));
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("solves a liquidation price in closed form, worked by hand", () => {
    // 1 BTC long from 100,000 with 10,000 USDC (no haircut). At P in the 50k–250k bracket
    // (mmr 0.5 %, cum 50): equity − MM = 10,000 + (P − 100,000) − (0.005 P − 50) = 0.995 P − 89,950,
    // so P = 89,950 / 0.995 = 90,402.010050251256…; printed rounded up (liquidated on a fall).
    const portfolio = parse(
      documentOf({ BTC: "100000", ETH: "3000", SOL: "150", stETH: "2900" }, [
        {
          id: "a",
          venue: "v",
          collateral: { USDC: "10000" },
          positions: [{ instrument: "P", type: "perp", underlying: "BTC", size: "1", entryPrice: "100000" }],
        },
      ]),
    );
    const book = portfolio.accounts[0];
    if (!book) throw new Error("no book");
    const evaluation = evaluateAccount(book, portfolio.market, portfolio.params);
    const solution = evaluation.liquidation.get("BTC");
    expect(solution).toBeInstanceOf(ClosedFormSolution);
    expect(solution?.direction).toBe(1);
    expect(liquidationString(solution)).toBe("90402.01005026");
    expect(solution?.price?.toFixed(20)).toBe("90402.01005025125628140704");
    const [position] = accountResult(evaluation, portfolio.params).positions;
    // IM 100,000 / 100 = 1,000; MM 100,000 × 0.005 − 50 = 450.
    expect(position).toMatchObject({ notional: "100000", initialMargin: "1000", maintenanceMargin: "450" });
  });

  it("finds a liquidation price on a bracket edge, and one past an edge from the mark", () => {
    const solve = (btc: string, usdc: string, size: string) => {
      const portfolio = parse(
        documentOf({ BTC: btc, ETH: "3000", SOL: "150", stETH: "2900" }, [
          {
            id: "a",
            venue: "v",
            collateral: { USDC: usdc },
            positions: [{ instrument: "P", type: "perp", underlying: "BTC", size, entryPrice: btc }],
          },
        ]),
      );
      const book = portfolio.accounts[0];
      if (!book) throw new Error("no book");
      return evaluateAccount(book, portfolio.market, portfolio.params).liquidation.get("BTC");
    };
    // BTC brackets: ≤ 50k mmr 0.4 % cum 0; ≤ 250k 0.5 % cum 50; ≤ 1M 1 % cum 1,300; ≤ 10M 2.5 % cum 16,300.
    // 1 BTC long from 100,000 with 49,950 USDC: 0.995 P − 50,000 = 0 at 50,251.256281407035…
    expect(liquidationString(solve("100000", "49950", "1"))).toBe("50251.25628141");
    // With 50,200 USDC: 0.995 P − 49,750 = 0 at exactly 50,000, the bracket edge (below it,
    // 0.996 P − 49,800 is 0 there too).
    expect(liquidationString(solve("100000", "50200", "1"))).toBe("50000");
    // 3 BTC long from 100,000 (notional 300k, the 1 % bracket) with 60,000 USDC: that bracket's line
    // 2.97 P − 238,700 has its root at 80,370.37, below its edge 250,000 / 3 = 83,333.33, so the
    // walk crosses into the 0.5 % bracket: 2.985 P − 239,950 = 0 at 80,385.259631490787…
    expect(liquidationString(solve("100000", "60000", "3"))).toBe("80385.2596315");
    // 30 BTC short at 100,050 (notional 3.0015M, 2.5 %, cum 16,300) with 2M USDC is liquidated on a
    // rise: 2,000,000 − 30 (P − 100,050) − (0.75 P − 16,300) = 5,017,800 − 30.75 P = 0 at
    // 163,180.487804878…, rounded down; its notional there (4.9M) stays in the bracket.
    const short = solve("100050", "2000000", "-30");
    expect(short?.direction).toBe(-1);
    expect(liquidationString(short)).toBe("163180.48780487");
    // 0.01 BTC long with 2M USDC: equity − MM stays positive at every price: no liquidation price.
    expect(solve("100000", "2000000", "0.01")?.price).toBeNull();
  });
});

describe("integer formatting and the Decimal path's rounding", () => {
  const scaledArbitrary = fc.record({
    value: fc.bigInt({ min: -(10n ** 70n), max: 10n ** 70n }),
    scale: fc.integer({ min: 0, max: 60 }),
  });
  const asDecimal = ({ value, scale }: { value: bigint; scale: number }) => new Decimal(`${value}e-${scale}`);

  it("formatFixed prints as requirementString, valueString and neutralString", () => {
    fc.assert(
      fc.property(scaledArbitrary, (amount) => {
        const decimal = asDecimal(amount);
        expect(formatFixed(amount.value, amount.scale, "ceil")).toBe(requirementString(decimal));
        expect(formatFixed(amount.value, amount.scale, "floor")).toBe(valueString(decimal));
        expect(formatFixed(amount.value, amount.scale, "half-even")).toBe(neutralString(decimal));
      }),
      { numRuns: 3_000 },
    );
    // Ties of the half-even rounding, both ways.
    expect(formatFixed(5n, 9, "half-even")).toBe("0");
    expect(formatFixed(15n, 9, "half-even")).toBe("0.00000002");
    expect(formatFixed(-15n, 9, "half-even")).toBe("-0.00000002");
  });

  it("quotientDigits is a Decimal division (half-up) and divideDown (down); addAsDecimal is Decimal plus", () => {
    fc.assert(
      fc.property(
        scaledArbitrary,
        fc.bigInt({ min: 1n, max: 10n ** 40n }),
        scaledArbitrary,
        (numerator, denominator, other) => {
          const n = asDecimal(numerator);
          const d = new Decimal(denominator.toString());
          const up = quotientDigits(numerator.value, denominator, numerator.scale, "half-up");
          const down = quotientDigits(numerator.value, denominator, numerator.scale, "down");
          expect(new Decimal(`${up.coefficient}e${up.exponent}`).toFixed()).toBe(n.div(d).toFixed());
          expect(new Decimal(`${down.coefficient}e${down.exponent}`).toFixed()).toBe(
            divideDown(n, d).toFixed(),
          );
          const sum = addAsDecimal(numerator, other);
          expect(asDecimal(sum).toFixed()).toBe(n.plus(asDecimal(other)).toFixed());
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
