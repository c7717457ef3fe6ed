import {
  addAsDecimal,
  amountText,
  type CollateralBalance,
  collateralLine,
  Decimal,
  decimalEvaluation,
  decimalFloat,
  digitCount,
  ExactSum,
  exactAmount,
  exposureReport,
  FixedOptionFigures,
  fromModelFloat,
  modelAmount,
  optionFigures,
  plainDecimal,
  requirementString,
  sortSmall,
  timesAsDecimal,
  valueString,
  Wide,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalString } from "../helpers/arbitraries.ts";
import { accountDocument, btcOption, parse, portfolioDocument, single } from "../helpers/portfolio.ts";

/** Decimals of up to 45 significant digits anywhere from 10^-40 to 10^50: products reach 90 digits. */
const decimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 45n), max: 10n ** 45n }), fc.integer({ min: -40, max: 5 }))
  .map(([coefficient, exponent]) => new Decimal(`${coefficient}e${exponent}`));

describe("exact amounts", () => {
  it("a product and a sum are decimal.js's: rounded half-up at 50 significant digits", () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        expect(amountText(timesAsDecimal(exactAmount(a), exactAmount(b)))).toBe(a.times(b).toFixed());
        expect(amountText(addAsDecimal(exactAmount(a), exactAmount(b)))).toBe(a.plus(b).toFixed());
      }),
      { numRuns: 3000 },
    );
  });

  it("a tie at the 51st digit rounds away from zero (worked by hand)", () => {
    // 1 followed by 49 zeros and a 5: 51 digits; kept to 50, the 5 rounds the last 0 up.
    const tie = exactAmount(new Decimal(`1${"0".repeat(49)}5`));
    const one = exactAmount(new Decimal(1));
    expect(amountText(timesAsDecimal(tie, one))).toBe(`1${"0".repeat(48)}10`);
    expect(amountText(timesAsDecimal({ value: -tie.value, scale: 0 }, one))).toBe(`-1${"0".repeat(48)}10`);
    // 0.5 × 3 = 1.5 has 2 digits: exact.
    expect(amountText(timesAsDecimal(exactAmount(new Decimal("0.5")), exactAmount(new Decimal(3))))).toBe(
      "1.5",
    );
  });

  it("decimalFloat is toNumber bit for bit (−0, tiny, huge and 25-digit coefficients included)", () => {
    const values = fc.oneof(
      fc
        .tuple(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), fc.integer({ min: -40, max: 30 }))
        .map(([coefficient, exponent]) => new Decimal(`${coefficient}e${exponent}`)),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => new Decimal(x)),
      fc.constantFrom(new Decimal("-0"), new Decimal("0.1"), new Decimal("100050"), new Decimal("1e-7")),
    );
    fc.assert(
      fc.property(values, (value) => Object.is(decimalFloat(value), value.toNumber())),
      { numRuns: 20_000 },
    );
  });

  it("plainDecimal builds what decimal.js's parser builds from a schema-checked decimal string", () => {
    const text = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^(0|[1-9]\d{0,17})$/),
        fc.option(fc.stringMatching(/^\d{1,18}$/), { nil: undefined }),
      )
      .map(
        ([negative, whole, fraction]) =>
          `${negative ? "-" : ""}${whole}${fraction === undefined ? "" : `.${fraction}`}`,
      );
    fc.assert(
      fc.property(text, (value) => {
        const built = plainDecimal(value);
        const parsed = new Decimal(value);
        expect([built.s, built.e, built.d]).toEqual([parsed.s, parsed.e, parsed.d]);
        expect(built.times("1.5").toFixed()).toBe(parsed.times("1.5").toFixed());
      }),
      { numRuns: 20_000 },
    );
    expect(plainDecimal("-0").isNegative()).toBe(new Decimal("-0").isNegative());
    expect(plainDecimal("0.000000000000000001").e).toBe(-18);
  });

  it("digitCount is the length of the integer's decimal text, at every power of ten and past the table", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 130n }), (value) => {
        expect(digitCount(value)).toBe(value.toString().length);
      }),
      { numRuns: 5000 },
    );
    for (let k = 1; k < 125; k++) {
      expect(digitCount(10n ** BigInt(k))).toBe(k + 1);
      expect(digitCount(10n ** BigInt(k) - 1n)).toBe(k);
    }
    expect(digitCount(0n)).toBe(1);
  });

  it("sortSmall orders as Array.prototype.sort, by insertion up to 16 items and past them", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3 }), { maxLength: 40 }), (items) => {
        const compare = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
        expect(sortSmall([...items], compare)).toEqual([...items].sort(compare));
      }),
      { numRuns: 2000 },
    );
  });

  it("an exact sum is the 200-digit sum in any order, and prints as toFixed", () => {
    fc.assert(
      fc.property(fc.array(decimal, { maxLength: 30 }), (values) => {
        const forward = new ExactSum(Wide);
        const backward = new ExactSum(Wide);
        for (const value of values) forward.add(exactAmount(value));
        for (const value of [...values].reverse()) backward.add(exactAmount(value));
        const expected = values.reduce((sum, value) => sum.plus(value), new Wide(0));
        expect(forward.text()).toBe(expected.toFixed());
        expect(backward.text()).toBe(expected.toFixed());
        expect(forward.decimal.eq(expected)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("an option's figures on exact amounts", () => {
  it("modelAmount is fromModelFloat's exact value, from 1e-300 to 1e300", () => {
    const floats = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: 1e-12, max: 1e6, noNaN: true }),
    );
    fc.assert(
      fc.property(floats, (x) => amountText(modelAmount(x)) === fromModelFloat(x).toFixed()),
      { numRuns: 20_000 },
    );
  });

  it("FixedOptionFigures equal optionFigures: value, IM, MM and notional, long and short, given and Black-76 marks", () => {
    const options = fc.record({
      optionType: fc.constantFrom("call", "put"),
      size: decimalString(-50, 50, 9),
      strike: decimalString(0.01, 300000, 8),
      markPrice: fc.option(decimalString(0, 50000, 12), { nil: undefined }),
      mark: decimalString(0.5, 250000, 12),
      vol: decimalString(0.05, 3, 4),
    });
    fc.assert(
      fc.property(options, ({ optionType, size, strike, markPrice, mark, vol }) => {
        const { book, market, params } = single(
          { positions: [btcOption(optionType, strike, size, markPrice)] },
          { prices: { BTC: { index: mark } }, volatility: { BTC: vol } },
        );
        const position = book.positions[0];
        if (position?.kind !== "option") throw new Error("expected an option");
        const S = market.quotes.get("BTC")?.mark as Decimal;
        const expected = optionFigures(position, S, market, params, false);
        const actual = new FixedOptionFigures(position, S, market, params);
        for (const key of ["value", "initialMargin", "maintenanceMargin", "notional"] as const)
          expect(actual[key].toFixed(), key).toBe(expected[key].toFixed());
      }),
      { numRuns: 3000 },
    );
  });
});

describe("the exposure report's integer sums equal the Decimal path's figures", () => {
  // 18-decimal amounts and indexes of up to 30 digits: their products pass 50 digits and round.
  const balance = fc.record({
    USDT: decimalString(-1e6, 1e9, 9),
    USDC: decimalString(0, 1e9, 9),
    BTC: decimalString(-50, 5000, 8),
  });
  const index = fc.record({
    USDT: decimalString(0.8, 1.05, 9),
    USDC: decimalString(0.8, 1.05, 9),
    BTC: decimalString(20000, 200000, 9),
  });
  const books = fc.tuple(index, fc.array(balance, { minLength: 1, maxLength: 6 }), fc.boolean());

  it("collateral, depeg losses and totals: Σ of collateralLine and of the Decimal evaluation", () => {
    fc.assert(
      fc.property(books, ([prices, balances, withPerp]) => {
        const portfolio = parse(
          portfolioDocument({
            prices: {
              BTC: { index: prices.BTC },
              USDT: { index: prices.USDT },
              USDC: { index: prices.USDC },
            },
            accounts: balances.map((collateral, i) =>
              accountDocument({
                id: `a-${i}`,
                collateral,
                positions: withPerp
                  ? [
                      {
                        instrument: "BTC-PERP",
                        type: "perp",
                        underlying: "BTC",
                        size: "-0.75",
                        entryPrice: "90000",
                      },
                    ]
                  : [],
              }),
            ),
          }),
        );
        const { market, params } = portfolio;
        const { report } = exposureReport(portfolio);
        for (const asset of ["USDT", "USDC", "BTC"]) {
          const index = market.quotes.get(asset)?.index as Decimal;
          const lines = portfolio.accounts.flatMap((book) =>
            book.collateral
              .filter((b: CollateralBalance) => b.asset === asset && !b.amount.isZero())
              .map((b: CollateralBalance) => ({ b, line: collateralLine(b, index, params, false) })),
          );
          if (lines.length === 0) continue;
          const sum = (f: (l: (typeof lines)[number]) => Decimal) =>
            lines.reduce((s, l) => s.plus(f(l)), new Wide(0));
          const entry = report.collateral[asset];
          expect(entry?.raw).toBe(valueString(sum((l) => l.line.usdValue)));
          expect(entry?.afterHaircut).toBe(valueString(sum((l) => l.line.counted)));
          if (asset !== "BTC")
            for (const move of ["-0.01", "-0.05", "-0.13"]) {
              const shocked = index.times(new Decimal(1).plus(move));
              const loss = sum((l) =>
                l.line.counted.minus(collateralLine(l.b, shocked, params, false).counted),
              );
              expect(entry?.depeg?.[move]).toBe(requirementString(loss));
            }
        }
        const evaluations = portfolio.accounts.map((book) => decimalEvaluation(book, market, params));
        const total = (f: (e: (typeof evaluations)[number]) => Decimal) =>
          evaluations.reduce((s, e) => s.plus(f(e)), new Wide(0));
        expect(report.totals.equity).toBe(valueString(total((e) => e.risk.equity)));
        expect(report.totals.initialMargin).toBe(requirementString(total((e) => e.risk.initialMargin)));
        expect(report.totals.maintenanceMargin).toBe(
          requirementString(total((e) => e.risk.maintenanceMargin)),
        );
        expect(report.totals.callAmount).toBe(requirementString(total((e) => e.callAmount)));
      }),
      { numRuns: 300 },
    );
  });
});
