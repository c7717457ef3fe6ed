import { ExposureReport } from "@backing/contracts";
import { Decimal, exposureReport, type PreviousAccount } from "@backing/core";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

/** One bracket, 1% MMR, 10× IM, cum 0: liquidation prices solve by hand. */
const FLAT_BTC = { brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.01" }] } };

function book(accounts: Record<string, unknown>[], params: Record<string, unknown> = {}, extra = {}) {
  return parse(
    portfolioDocument({
      prices: {
        BTC: { index: "100000" },
        ETH: { index: "3000" },
        stETH: { index: "2970" },
        USDC: { index: "1" },
        USDT: { index: "1" },
      },
      params: { ...FLAT_BTC, ...params },
      accounts: accounts.map((a, i) => accountDocument({ id: `a-${i + 1}`, ...a })),
      ...extra,
    }),
  );
}

const future = (size: string) => ({
  instrument: "BTC-20260626",
  type: "future",
  underlying: "BTC",
  size,
  entryPrice: "100000",
  expiry: "2026-06-26T08:00:00Z",
});

describe("notional and concentration on a 4-account book", () => {
  // a-1: +0.4 perp and −0.2 future → gross 60,000, net +20,000; a-2 +0.3 → 30,000; a-3 +0.2 →
  // 20,000; a-4 −0.1 → 10,000 (net |−10,000|).
  const portfolio = book([
    { collateral: { USDC: "100000" }, positions: [perp("BTC", "0.4", "100000"), future("-0.2")] },
    { collateral: { USDC: "100000" }, positions: [perp("BTC", "0.3", "100000")] },
    { collateral: { USDC: "100000" }, positions: [perp("BTC", "0.2", "100000")] },
    { collateral: { USDC: "100000" }, positions: [perp("BTC", "-0.1", "100000")] },
  ]);
  const { report } = exposureReport(portfolio);
  const btc = report.assets.BTC;

  it("long 90,000 (0.9 BTC), short 30,000, net 60,000, gross 120,000 over 4 accounts", () => {
    expect(btc).toMatchObject({
      mark: "100000",
      long: "90000",
      short: "30000",
      net: "60000",
      gross: "120000",
    });
    expect(btc?.accounts).toBe(4);
  });

  it("gross basis: shares 1/2, 1/4, 1/6, 1/12; HHI = 10,000 × 5,000 / 14,400; N = 2.88", () => {
    expect(btc?.concentration.gross).toEqual({
      total: "120000",
      top1: "0.5",
      top5: "1",
      top10: "1",
      top20: "1",
      hhi: "3472.22222222",
      effectiveN: "2.88",
    });
  });

  it("net basis on |net|: 20,000, 30,000, 20,000, 10,000 → top1 0.375, HHI 2,812.5", () => {
    expect(btc?.concentration.net).toEqual({
      total: "80000",
      top1: "0.375",
      top5: "1",
      top10: "1",
      top20: "1",
      hhi: "2812.5",
      effectiveN: "3.55555556",
    });
  });

  it("the report satisfies its contract schema", () => {
    expect(ExposureReport.safeParse(report).success).toBe(true);
  });
});

describe("liquidation heatmap, CumLiq and LDR", () => {
  // Long s BTC at entry = mark = 100,000 with C USDC: C + s(L − 100,000) = 0.01·s·L, so
  // C = s·100,000 − 0.99·s·L. Short −1: C − (L − 100,000) = 0.01·L, so C = 1.01·L − 100,000.
  const portfolio = book(
    [
      { collateral: { USDC: "5455" }, positions: [perp("BTC", "1", "100000")] }, // L = 95,500
      { collateral: { USDC: "21800" }, positions: [perp("BTC", "2", "100000")] }, // L = 90,000
      { collateral: { USDC: "4050.2" }, positions: [perp("BTC", "-1", "100000")] }, // L = 103,020
      { collateral: { USDC: "30700" }, positions: [perp("BTC", "1", "100000")] }, // L = 70,000
      { collateral: { USDC: "10" }, positions: [perp("BTC", "1", "100000")] }, // L = 101,000: past it
    ],
    // 1% depth 100,000 USD, halved: Depth(Δ) = 50,000 × |Δ| / 0.01.
    { exposure: { depth: { BTC: "100000" }, depthMultiplier: "0.5" } },
  );
  const { report } = exposureReport(portfolio);
  const btc = report.assets.BTC;
  const bin = (from: string) => btc?.heatmap.find((b) => b.from === from);

  it("40 bins of 1,000 from 80,000 to 120,000", () => {
    expect(btc?.heatmap).toHaveLength(40);
    expect(btc?.heatmap[0]).toMatchObject({ from: "80000", to: "81000" });
    expect(btc?.heatmap[39]).toMatchObject({ from: "119000", to: "120000" });
  });

  it("each account's notional sits in the bin of its liquidation price, by side", () => {
    expect(bin("95000")).toEqual({
      from: "95000",
      to: "96000",
      notional: "100000",
      onFall: "100000",
      onRise: "0",
    });
    expect(bin("90000")).toMatchObject({ notional: "200000", onFall: "200000" });
    expect(bin("103000")).toEqual({
      from: "103000",
      to: "104000",
      notional: "100000",
      onFall: "0",
      onRise: "100000",
    });
    expect(bin("101000")).toMatchObject({ notional: "100000", onFall: "100000" });
    const nonEmpty = btc?.heatmap.filter((b) => b.notional !== "0").map((b) => b.from);
    expect(nonEmpty).toEqual(["90000", "95000", "101000", "103000"]);
    expect(btc?.liquidation).toEqual({
      inHeatmap: "500000",
      beyondHeatmap: "100000",
      noLiquidationPrice: "0",
    });
  });

  it("CumLiq counts an account once the move reaches its liquidation price (the one past it at every fall)", () => {
    expect(btc?.cumLiq).toEqual({
      "-0.2": "400000",
      "-0.1": "400000",
      "-0.05": "200000",
      "-0.02": "100000",
      "-0.01": "100000",
      "0.01": "0",
      "0.02": "0",
      "0.05": "100000",
      "0.1": "100000",
      "0.2": "100000",
    });
  });

  it("LDR = CumLiq / (50,000 × |Δ| / 0.01); only −1% exceeds 1 (LDR = 1 at −2% is no warning)", () => {
    expect(btc?.depth?.["-0.01"]).toBe("50000");
    expect(btc?.depth?.["0.2"]).toBe("1000000");
    expect(btc?.ldr).toEqual({
      "-0.2": "0.4",
      "-0.1": "0.8",
      "-0.05": "0.8",
      "-0.02": "1",
      "-0.01": "2",
      "0.01": "0",
      "0.02": "0",
      "0.05": "0.4",
      "0.1": "0.2",
      "0.2": "0.1",
    });
    expect(btc?.cascadeWarnings).toEqual(["-0.01"]);
  });

  it("closest to liquidation: the account already past it first, then by the move needed", () => {
    expect(report.closestToLiquidation.map((r) => [r.id, r.liquidationPrice, r.distance])).toEqual([
      ["a-5", "101000", "-0.01"],
      ["a-3", "103020", "0.0302"],
      ["a-1", "95500", "0.045"],
      ["a-2", "90000", "0.1"],
      ["a-4", "70000", "0.3"],
    ]);
    expect(report.closestToLiquidation[0]?.status).toBe("LIQUIDATION");
  });

  it("an asset without a configured depth has no LDR", () => {
    const doge = { notionalCap: "1000000", maxLeverage: "10", mmr: "0.01" };
    const report = exposureReport(
      book(
        [{ collateral: { USDC: "1000" }, positions: [perp("DOGE", "1000", "0.2")] }],
        {
          brackets: { DOGE: [doge] },
        },
        { prices: { DOGE: { index: "0.2" }, USDC: { index: "1" } } },
      ),
    ).report;
    expect(report.assets.DOGE?.depth).toBeNull();
    expect(report.assets.DOGE?.ldr["-0.01"]).toBeNull();
    expect(report.assets.DOGE?.cascadeWarnings).toEqual([]);
  });
});

describe("collateral, depeg sensitivity and wrong-way collateral", () => {
  const portfolio = book([
    { collateral: { USDT: "1000000", stETH: "100" }, positions: [perp("ETH", "10", "3000")] },
    { collateral: { USDT: "-100000", USDC: "500000" } },
    { collateral: { BTC: "1", USDC: "1000" }, positions: [perp("BTC", "1", "100000")] },
    { collateral: { BTC: "2", USDC: "1000" }, positions: [perp("BTC", "-1", "100000")] },
  ]);
  const { report } = exposureReport(portfolio);

  it("raw and after haircut per asset: USDT 975,000 − 100,000 × 1.1 = 865,000", () => {
    expect(report.collateral.USDT).toMatchObject({
      amount: "900000",
      raw: "900000",
      afterHaircut: "865000",
      accounts: 2,
    });
    // 100 stETH × 2,970 = 297,000 at a 7.5% haircut.
    expect(report.collateral.stETH).toMatchObject({ raw: "297000", afterHaircut: "274725" });
    // BTC: 3 × 100,000 at 5%.
    expect(report.collateral.BTC).toMatchObject({ raw: "300000", afterHaircut: "285000" });
  });

  it("depeg loss after haircut, the loan gaining: USDT −1% = 9,750 − 1,100", () => {
    // Long 1,000,000 USDT: 975,000 → 965,250 (−1%), 926,250 (−5%), 848,250 (−13%).
    // Loan 100,000 USDT: −110,000 → −108,900, −104,500, −95,700.
    expect(report.collateral.USDT?.depeg).toEqual({ "-0.01": "8650", "-0.05": "43250", "-0.13": "112450" });
    // stETH −13%: 274,725 × 0.13.
    expect(report.collateral.stETH?.depeg?.["-0.13"]).toBe("35714.25");
    expect(report.collateral.BTC?.depeg).toBeUndefined();
  });

  it("shares of the book's collateral after haircut sum to 1", () => {
    // 865,000 + 274,725 + 502,000 (USDC) + 285,000 = 1,926,725.
    expect(report.totals.collateralAfterHaircut).toBe("1926725");
    const sum = Object.values(report.collateral).reduce((s, c) => s.plus(c.share), new Decimal(0));
    expect(sum.minus(1).abs().lte("0.00000004")).toBe(true);
    expect(report.collateral.USDC?.share).toBe(new Decimal(502000).div(1926725).toDecimalPlaces(8).toFixed());
  });

  it("flags BTC behind a BTC long and stETH behind an ETH long, not BTC behind a short", () => {
    expect(report.assets.BTC?.wrongWay).toEqual({ accounts: 1, collateralAfterHaircut: "95000" });
    expect(report.assets.ETH?.wrongWay).toEqual({ accounts: 1, collateralAfterHaircut: "274725" });
  });
});

describe("options greeks", () => {
  it("an at-the-money call, 1 year, σ 0.5: delta N(0.25) = 0.59870633 per unit", () => {
    const portfolio = book(
      [
        {
          collateral: { USDC: "100000" },
          positions: [
            {
              instrument: "BTC-C",
              type: "option",
              underlying: "BTC",
              optionType: "call",
              strike: "100000",
              expiry: "2027-01-15T00:00:00Z",
              size: "-2",
            },
          ],
        },
      ],
      {},
      { volatility: { BTC: "0.5" } },
    );
    const options = exposureReport(portfolio).report.assets.BTC?.options;
    // d1 = σ√T / 2 = 0.25; N(0.25) = 0.5987063257 (standard normal table).
    expect(Number(options?.delta)).toBeCloseTo(-2 * 0.5987063257, 8);
    // Vega per vol point: F·φ(0.25)·√T / 100 = 100,000 × 0.3866681168 / 100 per unit.
    expect(Number(options?.vega)).toBeCloseTo(-2 * 386.6681168, 4);
    // Gamma-$ per 1%: Γ·F²/100 = φ(d1)/(F σ √T) · F² / 100 = 0.3866681168 × 100,000 / 0.5 / 100.
    expect(Number(options?.gammaDollar)).toBeCloseTo(-2 * 773.3362336, 4);
    expect(options?.byExpiry.find((b) => b.bucket === ">90d")?.delta).toBe(options?.delta);
    expect(options?.positions).toBe(1);
  });
});

describe("changes since the previous report", () => {
  const portfolio = book([
    { collateral: { USDC: "5455" }, positions: [perp("BTC", "1", "100000")] }, // MARGIN_CALL now
    { collateral: { USDC: "50000" }, positions: [perp("BTC", "1", "100000")] }, // HEALTHY now
    { collateral: { USDC: "10" }, positions: [perp("BTC", "1", "100000")] }, // LIQUIDATION, new
  ]);
  const previous = new Map<string, PreviousAccount>([
    ["a-1", { venue: "venue-a", status: "HEALTHY", equity: new Decimal("20000") }],
    ["a-2", { venue: "venue-a", status: "LIQUIDATION", equity: new Decimal("-100") }],
  ]);
  const { report } = exposureReport(portfolio, { asOf: "2026-01-14T23:00:00Z", accounts: previous });

  it("lists new calls by call amount, cures and the largest equity changes", () => {
    // IM = 100,000 / 10 = 10,000: call amounts 10,000 − 10 and 10,000 − 5,455.
    expect(report.changes?.newMarginCalls).toEqual({
      count: 2,
      accounts: [
        { id: "a-3", venue: "venue-a", from: null, to: "LIQUIDATION", callAmount: "9990" },
        { id: "a-1", venue: "venue-a", from: "HEALTHY", to: "MARGIN_CALL", callAmount: "4545" },
      ],
    });
    expect(report.changes?.cured).toEqual({
      count: 1,
      accounts: [{ id: "a-2", venue: "venue-a", from: "LIQUIDATION", to: "HEALTHY" }],
    });
    expect(report.changes?.largestEquityChanges.map((c) => [c.id, c.change])).toEqual([
      ["a-2", "50100"],
      ["a-1", "-14545"],
    ]);
    expect(report.changes?.previousAsOf).toBe("2026-01-14T23:00:00Z");
  });

  it("is null without a previous report", () => {
    expect(exposureReport(portfolio).report.changes).toBeNull();
  });
});
