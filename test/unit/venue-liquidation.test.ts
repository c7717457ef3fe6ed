import {
  accountAfterTrades,
  accountRisk,
  adlScore,
  type Bankruptcy,
  DEFAULT_RISK_PARAMS,
  Decimal,
  liquidateAccount,
  liquidationSettings,
  parsePortfolio,
  runWaterfall,
  writeOff,
} from "@backing/core";
import { describe, expect, it } from "vitest";

// One BTC bracket (10x, MM rate 5%) and USDC without haircut keep every figure hand-computable:
// MM = 0.05 × |size| × mark, equity = USDC + size × (mark − entry) + funding.
const book = (
  mark: string,
  accounts: { id: string; usdc: string; size: string; entry: string; funding?: string }[],
  liquidation: Record<string, string> = {},
) =>
  parsePortfolio(
    {
      asOf: "2026-01-15T00:00:00Z",
      prices: { BTC: { index: mark }, USDC: { index: "1" } },
      params: {
        brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.05" }] },
        liquidation,
      },
      accounts: accounts.map((a) => ({
        id: a.id,
        venue: "venue-a",
        collateral: { USDC: a.usdc },
        positions: [
          {
            instrument: "BTC-PERP",
            type: "perp",
            underlying: "BTC",
            size: a.size,
            entryPrice: a.entry,
            ...(a.funding ? { funding: a.funding } : {}),
          },
        ],
      })),
    },
    DEFAULT_RISK_PARAMS,
  );

const fillsOf = (fills: { size: Decimal; price: Decimal; fee: Decimal; charge: Decimal }[]) =>
  fills.map((f) => ({
    size: f.size.toFixed(),
    price: f.price.toFixed(),
    fee: f.fee.toFixed(),
    charge: f.charge.toFixed(),
  }));

describe("the venue's liquidation model (DESIGN §3.12)", () => {
  it("closes a liquidated account at the mark in one step and takes the fee", () => {
    // Long 1 BTC from 10,000 at mark 9,100 with 1,000 USDC: uPnL −900, equity 100,
    // MM 0.05 × 9,100 = 455 → LIQUIDATION. Fee 0.5% × 9,100 = 45.5; after the close the
    // account holds 1,000 − 900 − 45.5 = 54.5, no MM: not bankrupt.
    const { accounts, market, params } = book(
      "9100",
      [{ id: "a", usdc: "1000", size: "1", entry: "10000" }],
      {
        fee: "0.005",
      },
    );
    const settings = liquidationSettings(params.document);
    const outcome = liquidateAccount(accounts[0] as never, market, params, settings);
    expect(outcome.steps).toBe(1);
    expect(fillsOf(outcome.fills)).toEqual([{ size: "-1", price: "9100", fee: "45.5", charge: "0" }]);
    expect(outcome.fees.toFixed()).toBe("45.5");
    expect(outcome.closedNotional.toFixed()).toBe("9100");
    expect(outcome.equity.toFixed()).toBe("54.5");
    expect(outcome.badDebt.toFixed()).toBe("0");
    // The document written back: size 0, the realised −900 and the fee in accrued funding.
    const after = accountAfterTrades(
      {
        id: "a",
        venue: "venue-a",
        marginMode: "standard",
        collateral: { USDC: "1000" },
        positions: [
          { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "10000" },
        ],
      },
      outcome.book,
    );
    expect(after.positions[0]).toMatchObject({ size: "0", funding: "-945.5" });
  });

  it("closes in two partial steps until equity reaches targetMargin × MM", () => {
    // Long 4 BTC at 10,000 = mark, 1,900 USDC: equity 1,900 < MM 0.05 × 40,000 = 2,000.
    // stepFraction 0.25 closes 1 BTC a step, fee 0.1% × 10,000 = 10 a step, target 1.5 × MM:
    //   step 1: equity 1,890, 3 BTC left, MM 1,500, target 2,250 → go on;
    //   step 2: equity 1,880, 2 BTC left, MM 1,000, target 1,500 → stop.
    const { accounts, market, params } = book(
      "10000",
      [{ id: "a", usdc: "1900", size: "4", entry: "10000" }],
      {
        stepFraction: "0.25",
        targetMargin: "1.5",
        fee: "0.001",
      },
    );
    const outcome = liquidateAccount(
      accounts[0] as never,
      market,
      params,
      liquidationSettings(params.document),
    );
    expect(outcome.steps).toBe(2);
    expect(fillsOf(outcome.fills)).toEqual([
      { size: "-1", price: "10000", fee: "10", charge: "0" },
      { size: "-1", price: "10000", fee: "10", charge: "0" },
    ]);
    expect(outcome.equity.toFixed()).toBe("1880");
    const risk = accountRisk(outcome.book, market, params);
    expect(risk.maintenanceMargin.toFixed()).toBe("1000");
    expect(outcome.book.positions[0]?.size.toFixed()).toBe("2");
  });

  it("leaves an account that is not in LIQUIDATION alone", () => {
    // Equity 1,000 − 100 = 900 ≥ MM 0.05 × 9,900 = 495.
    const { accounts, market, params } = book("9900", [{ id: "a", usdc: "1000", size: "1", entry: "10000" }]);
    const outcome = liquidateAccount(
      accounts[0] as never,
      market,
      params,
      liquidationSettings(params.document),
    );
    expect(outcome.fills).toEqual([]);
    expect(outcome.book).toBe(accounts[0]);
  });

  it("charges a bankruptcy to the insurance fund, which keeps the fees", () => {
    // Long 1 at 10,000, mark 8,900, 1,000 USDC: equity −100. Fee 0.5% × 8,900 = 44.5:
    // equity after the close −144.5 → bad debt 144.5. The fund: 1,000 + 44.5 fee − 144.5 = 900.
    const { accounts, market, params } = book(
      "8900",
      [{ id: "a", usdc: "1000", size: "1", entry: "10000" }],
      {
        fee: "0.005",
      },
    );
    const outcome = liquidateAccount(
      accounts[0] as never,
      market,
      params,
      liquidationSettings(params.document),
    );
    expect(outcome.badDebt.toFixed()).toBe("144.5");
    const bankrupt: Bankruptcy = {
      account: "a",
      venue: "venue-a",
      badDebt: outcome.badDebt,
      closed: new Map([["BTC", new Decimal(1)]]),
    };
    const waterfall = runWaterfall([bankrupt], [], market, params, new Decimal("1000").plus(outcome.fees));
    expect(waterfall.fundUsed.toFixed()).toBe("144.5");
    expect(waterfall.fundAfter.toFixed()).toBe("900");
    expect(waterfall.adlNotional.toFixed()).toBe("0");
    // Written off, the account stands at equity 0 and is no longer in deficit.
    const cleared = writeOff(outcome.book, outcome.badDebt);
    expect(accountRisk(cleared, market, params).equity.toFixed()).toBe("0");
  });

  it("past the fund, deleverages profitable opposite positions in Binance's ranking order", () => {
    // Mark 8,850, no fee. Bankrupt a: long 1 from 10,000 with 1,000 USDC → equity −150, bad debt 150.
    // The fund holds 20 → 130 left for ADL. Counterparties, ranked by
    // max(0, uPnL)/max(1, wallet) × MM/(wallet + uPnL):
    //   b: short 0.5 from 9,100, 1,000 USDC: uPnL 125, MM 0.05 × 4,425 = 221.25
    //      → 125/1,000 × 221.25/1,125 = 0.0245833…
    //   c: short 2 from 9,000, 5,000 USDC: uPnL 300, MM 0.05 × 17,700 = 885
    //      → 300/5,000 × 885/5,300 = 0.0100189…
    // c has more profit, b ranks first. b closes 0.5 (its whole size) and gives up all 125 of
    // its profit → 5 left; c closes the other 0.5 of a's 1 BTC, profit 0.5 × 150 = 75, gives up 5.
    // ADL notional (0.5 + 0.5) × 8,850 = 8,850.
    const { accounts, market, params } = book(
      "8850",
      [
        { id: "a", usdc: "1000", size: "1", entry: "10000" },
        { id: "b", usdc: "1000", size: "-0.5", entry: "9100" },
        { id: "c", usdc: "5000", size: "-2", entry: "9000" },
      ],
      { fee: "0" },
    );
    const [a, b, c] = accounts as [never, never, never];
    const outcome = liquidateAccount(a, market, params, liquidationSettings(params.document));
    expect(outcome.badDebt.toFixed()).toBe("150");
    const scoreB = adlScore(accountRisk(b, market, params)) as Decimal;
    const scoreC = adlScore(accountRisk(c, market, params)) as Decimal;
    expect(scoreB.toFixed(7)).toBe("0.0245833");
    expect(scoreC.toFixed(7)).toBe("0.0100189");
    const waterfall = runWaterfall(
      [
        {
          account: "a",
          venue: "venue-a",
          badDebt: outcome.badDebt,
          closed: new Map([["BTC", new Decimal(1)]]),
        },
      ],
      [c, b],
      market,
      params,
      new Decimal(20),
    );
    expect(waterfall.fundUsed.toFixed()).toBe("20");
    expect(waterfall.adlCovered.toFixed()).toBe("130");
    expect(waterfall.uncovered.toFixed()).toBe("0");
    expect(waterfall.adlNotional.toFixed()).toBe("8850");
    expect(waterfall.fills.map((f) => [f.account, f.size.toFixed(), f.charge.toFixed()])).toEqual([
      ["b", "0.5", "125"],
      ["c", "0.5", "5"],
    ]);
    // b realised 125 and gave it all up: equity 1,000, flat. c keeps 1.5 short and 70 realised:
    // 5,000 + 70 − 1.5 × (8,850 − 9,000) = 5,295 (it had 5,300 before giving up 5).
    expect(accountRisk(waterfall.books.get("b") as never, market, params).equity.toFixed()).toBe("1000");
    expect(accountRisk(waterfall.books.get("c") as never, market, params).equity.toFixed()).toBe("5295");
  });
});
