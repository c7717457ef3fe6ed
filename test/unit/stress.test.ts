import { type Scenario, ScenarioPack } from "@backing/contracts";
import {
  black76Price,
  DEFAULT_SCENARIO_PACK,
  Decimal,
  fundingIntervalsOf,
  type Portfolio,
  reverseSeverity,
  runScenario,
  stressReport,
  stressSettings,
  Wide,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalString } from "../helpers/arbitraries.ts";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

const scenario = (fields: Partial<Scenario> & { shocks?: Scenario["shocks"] }): Scenario =>
  ScenarioPack.parse({
    id: "test",
    version: "1",
    scenarios: [{ id: "S", name: "test", type: "hypothetical", horizon: "P1D", cascade: false, ...fields }],
  }).scenarios[0] as Scenario;

function book(accounts: Record<string, unknown>[], extra: Record<string, unknown> = {}): Portfolio {
  return parse(
    portfolioDocument({
      prices: {
        BTC: { index: "100000" },
        ETH: { index: "3000" },
        stETH: { index: "2970" },
        USDC: { index: "1" },
      },
      accounts: accounts.map((a, i) => accountDocument({ id: `a-${i + 1}`, ...a })),
      ...extra,
    }),
  );
}

const reportFor = (portfolio: Portfolio, s: Scenario) =>
  stressReport(portfolio, { id: "p", version: "1", scenarios: [s] }, { reverse: false }).scenarios[0];

describe("spot shock", () => {
  it("long 1 BTC @ 100,000 on 20,000 USDC, BTC −25%: equity −5,000, MM 325, deficit 5,325, bad debt 5,000", () => {
    // mark 75,000: equity 20,000 − 25,000; notional 75,000 in tier 2: MM = 375 − 50 = 325.
    const portfolio = book(
      [
        { collateral: { USDC: "20000" }, positions: [perp("BTC", "1", "100000")] },
        { collateral: { USDC: "50000" }, positions: [perp("BTC", "1", "100000")] },
      ],
      { params: { stress: { insuranceFund: "10000" } } },
    );
    const result = reportFor(portfolio, scenario({ shocks: { BTC: { price: "-0.25" } } }));
    expect(result?.accounts[0]).toEqual({
      id: "a-1",
      equity: "-5000",
      maintenanceMargin: "325",
      status: "LIQUIDATION",
      deficit: "5325",
      badDebt: "5000",
    });
    // a-2: equity 25,000 ≥ IM 750 × 1.2
    expect(result?.accounts[1]).toMatchObject({ status: "HEALTHY", equity: "25000", badDebt: "0" });
    expect(result).toMatchObject({
      accountsByStatus: { HEALTHY: 1, WARNING: 0, MARGIN_CALL: 0, LIQUIDATION: 1 },
      totalDeficit: "5325",
      totalBadDebt: "5000",
      insuranceFundAfter: "5000",
      cover1: "5000",
      cover2: "5000",
      breaksFirst: ["a-1"],
    });
  });

  it("a beta shock moves ETH by beta × the BTC move", () => {
    const portfolio = book([{ collateral: { USDC: "10000" }, positions: [perp("ETH", "1", "3000")] }]);
    // ETH −0.2 × 1.5 = −30%: mark 2,100, equity 10,000 − 900
    const result = reportFor(
      portfolio,
      scenario({ shocks: { BTC: { price: "-0.2" }, ETH: { beta: "1.5" } } }),
    );
    expect(result?.accounts[0]?.equity).toBe("9100");
  });
});

describe("statuses on the lines", () => {
  // No move: 1 BTC perp at 100,000 has IM 100,000 / 100 = 1,000 and MM 450; 10 ETH at 3,000 has
  // IM 30,000 / 75 = 400 (a leverage whose reciprocal does not terminate) and MM 180. The default
  // warning buffer is 0.2: WARNING below IM × 1.2. Equity exactly on a line is on its upper side.
  const still = scenario({ shocks: { BTC: { price: "0" }, ETH: { price: "0" } } });
  const cases = [
    ["BTC", "1", "100000", "999.99999999", "MARGIN_CALL"],
    ["BTC", "1", "100000", "1000", "WARNING"],
    ["BTC", "1", "100000", "1199.99999999", "WARNING"],
    ["BTC", "1", "100000", "1200", "HEALTHY"],
    ["ETH", "10", "3000", "399.99999999", "MARGIN_CALL"],
    ["ETH", "10", "3000", "400", "WARNING"],
    ["ETH", "10", "3000", "479.99999999", "WARNING"],
    ["ETH", "10", "3000", "480", "HEALTHY"],
  ] as const;

  it("are decided exactly where equity is within a float's error of IM or IM × (1 + buffer)", () => {
    const portfolio = book(
      cases.map(([asset, size, entry, usdc]) => ({
        collateral: { USDC: usdc },
        positions: [perp(asset, size, entry)],
      })),
    );
    const result = reportFor(portfolio, still);
    expect(result?.accounts.map((a) => a.status)).toEqual(cases.map((c) => c[4]));
  });
});

describe("peg shock on stETH collateral", () => {
  const account = { collateral: { stETH: "10" }, positions: [perp("ETH", "1", "3000")] };

  it("prices stETH at its peg ratio to shocked ETH: 2,400 × 0.93 = 2,232", () => {
    // collateral 10 × 2,232 × (1 − 0.075) = 20,646; PnL 2,400 − 3,000 = −600
    const result = reportFor(
      book([account]),
      scenario({ shocks: { ETH: { price: "-0.2" } }, pegs: { stETH: "0.93" } }),
    );
    expect(result?.accounts[0]?.equity).toBe("20046");
  });

  it("keeps the stETH/ETH ratio (0.99) when the scenario gives no peg", () => {
    // stETH 2,970 × 0.8 = 2,376; 10 × 2,376 × 0.925 = 21,978; − 600
    const result = reportFor(book([account]), scenario({ shocks: { ETH: { price: "-0.2" } } }));
    expect(result?.accounts[0]?.equity).toBe("21378");
  });

  it("moves a stablecoin to its USD level", () => {
    const result = reportFor(book([{ collateral: { USDC: "1000" } }]), scenario({ pegs: { USDC: "0.87" } }));
    expect(result?.accounts[0]?.equity).toBe("870");
  });
});

describe("vol shift on a short option", () => {
  it("re-marks a short call with Black-76 at σ + shift", () => {
    const portfolio = book(
      [
        {
          collateral: { USDC: "100000" },
          positions: [
            {
              instrument: "C",
              type: "option",
              underlying: "BTC",
              optionType: "call",
              strike: "110000",
              expiry: "2026-03-27T08:00:00Z",
              size: "-1",
            },
          ],
        },
      ],
      { volatility: { BTC: "0.5" } },
    );
    const years =
      (Date.parse("2026-03-27T08:00:00Z") - Date.parse("2026-01-15T00:00:00Z")) / (365 * 86_400_000);
    const result = reportFor(portfolio, scenario({ shocks: { BTC: { vol: "0.3" } } }));
    const expected = 100000 - black76Price("call", 100000, 110000, years, 0.8);
    expect(Number(result?.accounts[0]?.equity)).toBeCloseTo(expected, 6);
    expect(expected).toBeLessThan(100000 - black76Price("call", 100000, 110000, years, 0.5));
  });
});

describe("liquidation cascade", () => {
  // Impact on BTC: Y 1, σ 4%, V 25.6M at depth ×0.5 → V_eff 12.8M. BTC shocked −20% to 80,000.
  // a-1: long 10 @ 100,000 on 150,000: equity −50,000 at the shock → closed in round 1, selling
  //      800,000: ΔP/P = 0.04·sqrt(800,000/12,800,000) = 1% → BTC 79,200; a-1 fills there: −58,000.
  // a-2: long 1 @ 100,000 on 20,500: equity 500 ≥ MM 350 at 80,000, but −300 at 79,200 → closed in
  //      round 2; cumulative sell 879,200 → BTC = 80,000 × (1 − 0.04·sqrt(879,200/12,800,000)).
  // Round 3: nobody new fails → fixed point after 2 rounds.
  const cascadeBook = (maxCascadeRounds: number) =>
    book(
      [
        { collateral: { USDC: "150000" }, positions: [perp("BTC", "10", "100000")] },
        { collateral: { USDC: "20500" }, positions: [perp("BTC", "1", "100000")] },
      ],
      {
        params: {
          stress: {
            insuranceFund: "1000000",
            impact: { BTC: { Y: "1", dailyVol: "0.04", dailyVolume: "25600000" } },
            maxCascadeRounds,
          },
        },
      },
    );
  const portfolio = cascadeBook(20);
  const cascading = scenario({ shocks: { BTC: { price: "-0.2" } }, depthMultiplier: "0.5", cascade: true });
  const final = 80000 * (1 - 0.04 * Math.sqrt(879200 / 12800000));

  it("finds the hand-derived fixed point", () => {
    const result = reportFor(portfolio, cascading);
    expect(result?.cascade.rounds).toBe(2);
    expect(Number(result?.cascade.finalPrices.BTC)).toBeCloseTo(final, 6);
    expect(result?.cascade.forcedNotional.BTC).toBe("879200");
    expect(result?.accounts[0]).toMatchObject({ status: "LIQUIDATION", badDebt: "58000" });
    expect(Number(result?.accounts[1]?.badDebt)).toBeCloseTo(79500 - final, 6);
    // Before the cascade only a-1 was underwater (50,000).
    expect(Number(result?.cascade.addedBadDebt)).toBeCloseTo(58000 + (79500 - final) - 50000, 6);
    expect(result?.breaksFirst).toEqual(["a-1"]);
    // No book for BTC: the square-root model priced it.
    expect(result?.cascade.pricing).toEqual({ BTC: { pricedBy: "model" } });
  });

  it("stops at maxCascadeRounds, and counts only the forced flow of accounts it closed", () => {
    // One round allowed: a-1 is closed in round 1 (sells 10 × 80,000 = 800,000 → BTC 79,200).
    // a-2 fails at 79,200 (equity −300) but the cap ends the cascade: it is never closed, so its
    // 79,200 of selling is not forced notional and the price stays at 79,200.
    const result = reportFor(cascadeBook(1), cascading);
    expect(result?.cascade.rounds).toBe(1);
    expect(result?.cascade.forcedNotional.BTC).toBe("800000");
    expect(result?.cascade.finalPrices.BTC).toBe("79200");
    expect(result?.accounts[0]).toMatchObject({ status: "LIQUIDATION", badDebt: "58000" });
    expect(result?.accounts[1]).toMatchObject({ status: "LIQUIDATION", badDebt: "300" });
  });

  it("sums a size past 18 decimals (a book built in code, not parsed) into the forced flow exactly", () => {
    // a-1 as above but long 10.00000000000000000001: closed in round 1 at 80,000, it sells
    // 800,000.0000000000000008; a-2's 1 BTC is not closed (one round allowed).
    const portfolio = cascadeBook(1);
    const [first, second] = portfolio.accounts;
    const long = first?.positions[0];
    if (!first || !second || long?.kind !== "linear") throw new Error("unexpected book");
    const fine = { ...first, positions: [{ ...long, size: new Decimal("10.00000000000000000001") }] };
    const run = runScenario(
      [fine, second],
      portfolio.market,
      portfolio.params,
      cascading,
      new Decimal(1),
      stressSettings(portfolio.params),
    );
    expect(run.rounds).toBe(1);
    expect(run.forcedNotional.get("BTC")?.toFixed()).toBe("800000.0000000000000008");
  });

  it("skips the cascade when the scenario says cascade: false", () => {
    const result = reportFor(portfolio, { ...cascading, cascade: false });
    expect(result?.cascade).toEqual({
      rounds: 0,
      finalPrices: expect.objectContaining({ BTC: "80000" }),
      forcedNotional: {},
      addedBadDebt: "0",
      pricing: {},
    });
    expect(result?.accounts[1]).toMatchObject({ status: "MARGIN_CALL", badDebt: "0" });
  });
});

describe("the accounts the shock breaks first", () => {
  it("are the ten largest deficits, even when the largest come last and the float screen sees them first", () => {
    // Long 1 BTC @ 100,000, BTC −25 %: equity = collateral − 25,000, MM 325. Collateral 25,000 + 10·i
    // gives equity 10·i ≥ 0 and deficit 325 − 10·i: every account breaks, b-1 the worst. Listed
    // from b-12 down to b-1, the ten worst arrive after the list of ten is full.
    const accounts = Array.from({ length: 12 }, (_, k) => 12 - k).map((i) => ({
      id: `b-${i}`,
      collateral: { USDC: String(25000 + 10 * i) },
      positions: [perp("BTC", "1", "100000")],
    }));
    const portfolio = parse(
      portfolioDocument({
        accounts: accounts.map((a) => accountDocument(a)),
      }),
    );
    const result = reportFor(portfolio, scenario({ shocks: { BTC: { price: "-0.25" } }, cascade: true }));
    expect(result?.breaksFirst).toEqual(Array.from({ length: 10 }, (_, k) => `b-${k + 1}`));
  });
});

describe("Cover-1 and Cover-2", () => {
  it("are the largest and the two largest bad debts, with their accounts", () => {
    // BTC −25% on long 1 @ 100,000: bad debt = 25,000 − collateral.
    const portfolio = book(
      ["20000", "22000", "17000", "30000"].map((usdc) => ({
        collateral: { USDC: usdc },
        positions: [perp("BTC", "1", "100000")],
      })),
    );
    const result = reportFor(portfolio, scenario({ shocks: { BTC: { price: "-0.25" } } }));
    expect(result).toMatchObject({
      cover1: "8000",
      cover2: "13000",
      coverAccounts: ["a-3", "a-1"],
      totalBadDebt: "16000",
    });
  });
});

describe("reverse stress", () => {
  it("finds k where bad debt first exceeds the fund: 25,000k − 20,000 > 10,000 ⇔ k > 1.2", () => {
    const portfolio = book([{ collateral: { USDC: "20000" }, positions: [perp("BTC", "1", "100000")] }], {
      params: { stress: { insuranceFund: "10000" } },
    });
    const k = reverseSeverity(
      portfolio.accounts,
      portfolio.market,
      portfolio.params,
      scenario({ shocks: { BTC: { price: "-0.25" } } }),
      stressSettings(portfolio.params),
    );
    expect(k?.toNumber()).toBeGreaterThan(1.2);
    expect(k?.toNumber()).toBeLessThan(1.2002);
  });

  it("is null when bad debt stays within the fund up to k = 5", () => {
    const portfolio = book([{ collateral: { USDC: "200000" }, positions: [perp("BTC", "0.1", "100000")] }]);
    const k = reverseSeverity(
      portfolio.accounts,
      portfolio.market,
      portfolio.params,
      scenario({ shocks: { BTC: { price: "-0.25" } } }),
      stressSettings(portfolio.params),
    );
    expect(k).toBeNull();
  });
});

describe("the shipped pack", () => {
  it("validates and holds the twelve scenarios of the reference's §6", () => {
    const pack = ScenarioPack.parse(DEFAULT_SCENARIO_PACK);
    expect(pack.scenarios.map((s) => s.id)).toEqual([
      "HIST_2020_03_BLACK_THURSDAY",
      "HIST_2021_05_19_LEVERAGE_FLUSH",
      "HIST_2022_05_TERRA_UST",
      "HIST_2022_06_CELSIUS_3AC_STETH",
      "HIST_2022_11_FTX",
      "HIST_2023_03_USDC_SVB",
      "HIST_2024_08_05_CARRY_UNWIND",
      "HIST_2025_10_10_CASCADE",
      "HYP_USDT_DEPEG",
      "HYP_LST_RUN_EXIT_QUEUE",
      "HYP_SHORT_SQUEEZE_UP",
      "REV_SYSTEMIC_DOUBLE_DEPEG",
    ]);
    expect(pack.scenarios.every((s) => (s.provenance?.sources.length ?? 0) > 0)).toBe(true);
    const ftx = pack.scenarios.find((s) => s.id === "HIST_2022_11_FTX");
    expect(ftx).toMatchObject({
      shocks: { BTC: { price: "-0.25" }, ETH: { price: "-0.34" }, SOL: { price: "-0.60" } },
      pegs: { USDT: "0.97" },
      depthMultiplier: "0.6",
    });
  });

  it("refuses a bad pack with paths", () => {
    const result = ScenarioPack.safeParse({
      id: "x",
      version: "1",
      scenarios: [
        { id: "A", name: "a", type: "historical", horizon: "7 days", shocks: { BTC: { price: "-1.5" } } },
        { id: "A", name: "b", type: "what-if", horizon: "P1D" },
      ],
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join(".")) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining(["scenarios.0.horizon", "scenarios.0.shocks.BTC.price", "scenarios.1.type"]),
    );
  });
});

describe("runScenario", () => {
  it("never raises prices in a long-liquidation cascade", () => {
    const portfolio = book(
      [0, 1, 2, 3, 4].map((i) => ({
        collateral: { USDC: String(10000 + i * 3000) },
        positions: [perp("BTC", "2", "100000")],
      })),
      {
        params: {
          stress: {
            insuranceFund: "0",
            impact: { BTC: { Y: "1", dailyVol: "0.04", dailyVolume: "5000000" } },
            maxCascadeRounds: 20,
          },
        },
      },
    );
    const run = runScenario(
      portfolio.accounts,
      portfolio.market,
      portfolio.params,
      scenario({ shocks: { BTC: { price: "-0.1" } }, cascade: true }),
      new Decimal(1),
      stressSettings(portfolio.params),
    );
    expect(run.rounds).toBeGreaterThan(1);
    expect(run.finalPrices.get("BTC")?.lte(90000)).toBe(true);
  });
});

describe("funding in stress (DESIGN §3.10)", () => {
  it("3 intervals of 0.3 % on a P1D scenario: a long pays, a short receives, futures neither", () => {
    // BTC 100,000 → −10 % = 90,000. Funding per unit long: 90,000 × 0.003 × 3 = 810.
    //   long perp 1:  20,000 + (90,000 − 100,000) − 810 = 9,190
    //   short perp 1: 20,000 + (100,000 − 90,000) + 810 = 30,810
    //   long future 1: no funding, 20,000 − 10,000 = 10,000
    const future = {
      instrument: "BTC-F",
      type: "future",
      underlying: "BTC",
      size: "1",
      entryPrice: "100000",
      expiry: "2026-06-26T08:00:00Z",
    };
    const portfolio = book([
      { collateral: { USDC: "20000" }, positions: [perp("BTC", "1", "100000")] },
      { collateral: { USDC: "20000" }, positions: [perp("BTC", "-1", "100000")] },
      { collateral: { USDC: "20000" }, positions: [future] },
    ]);
    const s = scenario({ shocks: { BTC: { price: "-0.10" } }, funding: { BTC: "0.003" } });
    const equities = reportFor(portfolio, s)?.accounts.map((a) => a.equity);
    expect(equities).toEqual(["9190", "30810", "10000"]);
    // fundingIntervals overrides the horizon's: 1 interval, 270 a unit.
    const once = reportFor(portfolio, scenario({ ...s, fundingIntervals: 1 }));
    expect(once?.accounts.map((a) => a.equity)).toEqual(["9730", "30270", "10000"]);
  });

  it("funding on perps with up to 18 decimals equals size × shocked mark × rate × intervals in exact decimals", () => {
    // Sizes with 18 decimals: the integer path where 50 significant digits hold every term, the
    // Decimal path where they do not (billions of units at a 15-decimal rate on an 8-decimal mark).
    const MARK = "100000.12345678";
    const size = fc
      .tuple(
        fc.oneof(fc.integer({ min: -300, max: 300 }), fc.noBias(fc.integer({ min: -2e9, max: 2e9 }))),
        fc.bigInt({ min: 0n, max: 10n ** 18n - 1n }),
      )
      .map(
        ([whole, fraction]) =>
          `${whole < 0 ? "-" : ""}${Math.abs(whole)}.${fraction.toString().padStart(18, "0")}`,
      );
    fc.assert(
      fc.property(
        fc.array(size, { minLength: 1, maxLength: 3 }),
        fc.oneof(decimalString(-0.01, 0.01, 6), fc.noBias(decimalString(-0.5, 0.5, 15))),
        decimalString(-0.5, 0.5, 4),
        fc.integer({ min: 1, max: 9 }),
        (sizes, rate, shock, intervals) => {
          const portfolio = book(
            [
              {
                collateral: { USDC: "1000000000000" },
                positions: sizes.map((s, i) => perp("BTC", s, "100000", { instrument: `BTC-PERP-${i}` })),
              },
            ],
            { prices: { BTC: { index: MARK }, USDC: { index: "1" } } },
          );
          const s = scenario({
            shocks: { BTC: { price: shock } },
            funding: { BTC: rate },
            fundingIntervals: intervals,
          });
          const shocked = new Wide(MARK).times(new Wide(1).plus(shock));
          let expected = new Wide("1000000000000");
          for (const text of sizes) {
            const units = new Wide(text);
            expected = expected
              .plus(units.times(shocked.minus(100000)))
              .minus(units.times(shocked).times(rate).times(intervals));
          }
          const equity = reportFor(portfolio, s)?.accounts[0]?.equity;
          expect(equity).toBe(expected.toDecimalPlaces(8, Decimal.ROUND_FLOOR).toFixed());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("counts the whole 8 h intervals in the horizon when none is given", () => {
    const intervals = (horizon: string) => fundingIntervalsOf(scenario({ horizon }));
    expect([
      intervals("PT1H"),
      intervals("PT8H"),
      intervals("P1D"),
      intervals("P3D"),
      intervals("P1W"),
    ]).toEqual([0, 1, 3, 9, 21]);
  });
});
