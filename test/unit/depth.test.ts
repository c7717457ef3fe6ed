import {
  DepthSnapshot,
  depthFileSchema,
  issuesFromZod,
  PortfolioDocument,
  type Scenario,
  ScenarioPack,
} from "@backing/contracts";
import {
  Decimal,
  depthBooks,
  depthNotionalWithin,
  exposureReport,
  impactPrice,
  type Portfolio,
  stressReport,
  walkBook,
} from "@backing/core";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

const FLOOR = new Decimal("0.0001");

/** DESIGN §3.11's worked book: mid 50,000, bids at −0.2/−1/−3 % with sizes 2/4/8. */
const designBook = {
  timestamp: "2026-01-15T00:00:00Z",
  bids: [
    ["49900", "2"],
    ["49500", "4"],
    ["48500", "8"],
  ],
  asks: [
    ["50100", "2"],
    ["50500", "4"],
    ["51500", "8"],
  ],
} as { timestamp: string; bids: [string, string][]; asks: [string, string][] };
const design = depthBooks({ BTC: designBook }).get("BTC");
if (!design) throw new Error("no book");

/** One account long `size` BTC @ 50,000 on `usdc` USDC, BTC at 50,000 on DESIGN's book. */
const onDesignBook = (usdc: string, size: string) =>
  parse(
    portfolioDocument({
      prices: { BTC: { index: "50000" }, USDC: { index: "1" } },
      depth: { BTC: designBook },
      accounts: [
        accountDocument({ id: "a-1", collateral: { USDC: usdc }, positions: [perp("BTC", size, "50000")] }),
      ],
    }),
  );

describe("walking a book (DESIGN §3.11)", () => {
  it("reproduces the worked case: 3 sold touch −1 % (49,500 at mark 50,000), 7 touch −3 % (48,500)", () => {
    const three = walkBook(design, new Decimal(3), new Decimal(1), FLOOR);
    expect(new Decimal(50000).times(three.factor).toFixed()).toBe("49500");
    expect(three).toMatchObject({ side: "bids", levelsTouched: 2, pastBook: false });
    expect(three.consumed.toFixed()).toBe("3");
    expect(three.visible.toFixed()).toBe("14");
    const seven = walkBook(design, new Decimal(7), new Decimal(1), FLOOR);
    expect(new Decimal(50000).times(seven.factor).toFixed()).toBe("48500");
  });

  it("moves with the mark: at 40,000 the −1 % level sits at 39,600", () => {
    const walk = walkBook(design, new Decimal(3), new Decimal(1), FLOOR);
    expect(new Decimal(40000).times(walk.factor).toFixed()).toBe("39600");
  });

  it("a level exactly used up is the deepest touched; the next unit reaches the next level", () => {
    expect(walkBook(design, new Decimal(2), new Decimal(1), FLOOR).levelsTouched).toBe(1);
    expect(walkBook(design, new Decimal("2.000001"), new Decimal(1), FLOOR).levelsTouched).toBe(2);
  });

  it("scales sizes by the depth multiplier: at ×0.5 the bids hold 1/2/4 (3 to −1 %), so 3.5 sold reach −3 %", () => {
    expect(walkBook(design, new Decimal(3), new Decimal("0.5"), FLOOR).levelsTouched).toBe(2);
    const walk = walkBook(design, new Decimal("3.5"), new Decimal("0.5"), FLOOR);
    expect(walk.levelsTouched).toBe(3);
    expect(walk.factor.toFixed()).toBe("0.97");
    expect(walk.visible.toFixed()).toBe("7");
  });

  it("forced buys walk the asks up: 6 bought touch +1 % (50,500)", () => {
    const walk = walkBook(design, new Decimal(-6), new Decimal(1), FLOOR);
    expect(walk).toMatchObject({ side: "asks", levelsTouched: 2 });
    expect(walk.factor.toFixed()).toBe("1.01");
  });

  it("past the book continues the square-root law from the last level: 56 sold = 4 × 14 → 3 % × √4 = 6 %", () => {
    const sold = walkBook(design, new Decimal(56), new Decimal(1), FLOOR);
    expect(sold).toMatchObject({ pastBook: true, levelsTouched: 3 });
    expect(sold.factor.toFixed()).toBe("0.94");
    expect(sold.consumed.toFixed()).toBe("14");
    // asks: last level +3 %; 14 × 9 bought → 3 % × 3 = +9 %
    expect(walkBook(design, new Decimal(-126), new Decimal(1), FLOOR).factor.toFixed()).toBe("1.09");
  });
});

describe("a cascade on a 5-level book", () => {
  // BTC 100,000, mid 100,000 (99,950 / 100,050). Bids −0.05/−0.5/−1/−2/−3 %, sizes 2/3/5/10/20.
  // Shock −20 %: mark 80,000, so the bids sit at 79,960 / 79,600 / 79,200 / 78,400 / 77,600.
  const fiveLevels = {
    BTC: {
      timestamp: "2026-01-15T00:00:00Z",
      bids: [
        ["99950", "2"],
        ["99500", "3"],
        ["99000", "5"],
        ["98000", "10"],
        ["97000", "20"],
      ],
      asks: [["100050", "2"]],
    },
  };
  const scenario = ScenarioPack.parse({
    id: "p",
    version: "1",
    scenarios: [
      { id: "S", name: "crash", type: "hypothetical", horizon: "P1D", shocks: { BTC: { price: "-0.2" } } },
    ],
  }).scenarios[0] as Scenario;
  const run = (portfolio: Portfolio) =>
    stressReport(portfolio, { id: "p", version: "1", scenarios: [scenario] }, { reverse: false })
      .scenarios[0];

  it("consumes two levels in round 1, starts round 2 from the remainder, and ends at the third level", () => {
    // a-1: long 4 @ 100,000 on 79,000: equity −1,000 at 80,000 → LIQUIDATION, closed in round 1.
    //      Selling 4: 2 at −0.05 %, 2 of the 3 at −0.5 % → mark 79,600. a-1 at 79,600: 79,000 − 4 × 20,400 = −2,600.
    // a-2: long 5 @ 100,000 on 103,000. At 80,000: equity 3,000, MM 400,000 × 1 % − 1,300 = 2,700 →
    //      MARGIN_CALL. At 79,600: equity 1,000 < MM 2,680 → closed in round 2. Selling 5: the 1 left
    //      at −0.5 %, 4 of the 5 at −1 % → mark 79,200. a-2 at 79,200: 103,000 − 5 × 20,800 = −1,000.
    // a-3: long 1 @ 80,000 on 10,000: equity 9,200 at 79,200, healthy → round 3 finds nobody new.
    const portfolio = parse(
      portfolioDocument({
        depth: fiveLevels,
        accounts: [
          accountDocument({
            id: "a-1",
            collateral: { USDC: "79000" },
            positions: [perp("BTC", "4", "100000")],
          }),
          accountDocument({
            id: "a-2",
            collateral: { USDC: "103000" },
            positions: [perp("BTC", "5", "100000")],
          }),
          accountDocument({
            id: "a-3",
            collateral: { USDC: "10000" },
            positions: [perp("BTC", "1", "80000")],
          }),
        ],
      }),
    );
    const result = run(portfolio);
    expect(result?.cascade.rounds).toBe(2);
    expect(result?.cascade.finalPrices.BTC).toBe("79200");
    // Forced notional at each round's prices: 4 × 80,000 + 5 × 79,600.
    expect(result?.cascade.forcedNotional.BTC).toBe("718000");
    expect(result?.accounts.map((a) => [a.id, a.status, a.badDebt])).toEqual([
      ["a-1", "LIQUIDATION", "2600"],
      ["a-2", "LIQUIDATION", "1000"],
      ["a-3", "HEALTHY", "0"],
    ]);
    expect(result?.totalBadDebt).toBe("3600");
    // Before the cascade only a-1 was underwater, by 1,000.
    expect(result?.cascade.addedBadDebt).toBe("2600");
    expect(result?.cascade.pricing).toEqual({
      BTC: {
        pricedBy: "depth",
        side: "bids",
        levelsTouched: 3,
        consumed: "9",
        visible: "40",
        pastBook: false,
      },
    });
  });

  it("goes past the visible book on the square-root continuation", () => {
    // DESIGN's book (mid 50,000, 14 bid units to −3 %). BTC −10 % → 45,000. a-1 long 56 @ 50,000 on
    // 200,000: equity −80,000 → closed; 56 = 4 × 14 sold → 3 % × √4 = 6 % → 45,000 × 0.94 = 42,300.
    // a-1 at 42,300: 200,000 − 56 × 7,700 = −231,200.
    const portfolio = onDesignBook("200000", "56");
    const result = stressReport(
      portfolio,
      {
        id: "p",
        version: "1",
        scenarios: [{ ...scenario, shocks: { BTC: { price: "-0.1" } } }],
      },
      { reverse: false },
    ).scenarios[0];
    expect(result?.cascade.finalPrices.BTC).toBe("42300");
    expect(result?.accounts[0]?.badDebt).toBe("231200");
    expect(result?.cascade.addedBadDebt).toBe("151200");
    expect(result?.cascade.pricing.BTC).toEqual({
      pricedBy: "depth",
      side: "bids",
      levelsTouched: 3,
      consumed: "14",
      visible: "14",
      pastBook: true,
    });
  });
});

describe("liquidation-to-depth and impact prices on a small book", () => {
  it("sums the levels between the mark and the move, with the book moved to the mark", () => {
    // Mark 50,000 = mid: bids within −1 %: 49,900 × 2 + 49,500 × 4 = 297,800.
    expect(
      depthNotionalWithin(design, new Decimal(50000), new Decimal("-0.01"), new Decimal(1)).toFixed(),
    ).toBe("297800");
    // Within −0.5 %: only 49,900 × 2. Asks within +3 % (51,500 on the bound counts): 100,200 + 202,000 + 412,000.
    expect(
      depthNotionalWithin(design, new Decimal(50000), new Decimal("-0.005"), new Decimal(1)).toFixed(),
    ).toBe("99800");
    expect(
      depthNotionalWithin(design, new Decimal(50000), new Decimal("0.03"), new Decimal(1)).toFixed(),
    ).toBe("714200");
    // Mark 40,000: every level × 0.8; multiplier 0.5 halves the sizes: 297,800 × 0.8 × 0.5.
    expect(
      depthNotionalWithin(design, new Decimal(40000), new Decimal("-0.01"), new Decimal("0.5")).toFixed(),
    ).toBe("119120");
  });

  it("fills a notional level by level: 200,000 sold = 99,800 at 49,900 then 100,200 at 49,500", () => {
    // base = 2 + 100,200 / 49,500 = 4.0242424…; average = 200,000 / base = 49,698.795180722891566…
    const bid = impactPrice(design, new Decimal(50000), new Decimal(200000), "bids");
    expect(bid?.toFixed(6)).toBe("49698.795181");
    // A notional inside the first level fills at its price.
    expect(impactPrice(design, new Decimal(50000), new Decimal(50100), "asks")?.toFixed()).toBe("50100");
    // More than the side holds (714,200 of asks): no impact price.
    expect(impactPrice(design, new Decimal(50000), new Decimal(800000), "asks")).toBeNull();
  });
});

describe("the exposure report on a book", () => {
  it("gives LDR against the book's depth, impact prices at the venue's notionals, and the book's curve", () => {
    // Long 2 BTC @ 50,000 on 1,000 USDC: MM = 0.005 × 2p − 50 (tier 2), so equity = MM at
    // 1,000 + 2p − 100,000 = 0.01p − 50 → p = 98,950 / 1.99 ≈ 49,723.6: between −1 % and −0.5 %.
    const portfolio = onDesignBook("1000", "2");
    const btc = exposureReport(portfolio).report.assets.BTC;
    expect(btc?.depthSource).toBe("book");
    // Bids within −0.5 %: 49,900 × 2; −1 % and −2 %: + 49,500 × 4; −5 % on: + 48,500 × 8.
    // Asks within +1 %: 50,100 × 2 + 50,500 × 4; +2 % on: + 51,500 × 8.
    expect(btc?.depth).toMatchObject({
      "-0.01": "297800",
      "-0.02": "297800",
      "-0.05": "685800",
      "0.01": "302200",
      "0.05": "714200",
    });
    // CumLiq(−1 %) = the account's 2 × 50,000: LDR = 100,000 / 297,800 = 0.3357958361…
    expect(btc?.cumLiq["-0.01"]).toBe("100000");
    expect(btc?.ldr["-0.01"]).toBe("0.33579584");
    expect(btc?.ldr["0.01"]).toBe("0");
    // 200 USDT ÷ (1/125) = 25,000 fills inside the best level; $1M and $10M are past the book.
    expect(btc?.impact).toEqual([
      { notional: "25000", bid: "49900", ask: "50100" },
      { notional: "1000000", bid: null, ask: null },
      { notional: "10000000", bid: null, ask: null },
    ]);
    expect(btc?.book?.bids).toEqual([
      { price: "49900", cumulative: "99800" },
      { price: "49500", cumulative: "297800" },
      { price: "48500", cumulative: "685800" },
    ]);
  });

  it("without a book keeps the params' uniform depth", () => {
    const portfolio = parse(
      portfolioDocument({
        accounts: [
          accountDocument({ collateral: { USDC: "1000" }, positions: [perp("BTC", "0.1", "100000")] }),
        ],
      }),
    );
    const btc = exposureReport(portfolio).report.assets.BTC;
    // Default 1 % depth $470M: Depth(−2 %) = 940M.
    expect(btc).toMatchObject({ depthSource: "params", impact: null, book: null });
    expect(btc?.depth?.["-0.02"]).toBe("940000000");
  });
});

describe("bad snapshots are refused with the level named", () => {
  const issuesOf = (book: unknown) => {
    const parsed = DepthSnapshot.safeParse(book);
    return parsed.success ? [] : issuesFromZod(parsed.error).map((i) => `${i.path}: ${i.message}`);
  };
  const good = { asset: "BTC", ...designBook };

  it("accepts a sorted, uncrossed book", () => {
    expect(issuesOf(good)).toEqual([]);
  });

  it("refuses unsorted levels", () => {
    const issues = issuesOf({
      ...good,
      bids: [
        ["49900", "2"],
        ["48500", "8"],
        ["49500", "4"],
      ],
    });
    expect(issues).toEqual([
      expect.stringMatching(/^bids\[2\]\[0\]: bids must be best first with prices falling: 49500/),
    ]);
    expect(
      issuesOf({
        ...good,
        asks: [
          ["50100", "2"],
          ["50100", "4"],
        ],
      })[0],
    ).toMatch(/^asks\[1\]\[0\]:/);
  });

  it("refuses a crossed book", () => {
    expect(issuesOf({ ...good, asks: [["49900", "1"]] })).toEqual([
      "asks[0][0]: crossed book: the best ask 49900 is not above the best bid bids[0] at 49900",
    ]);
  });

  it("refuses a negative or zero size", () => {
    expect(
      issuesOf({
        ...good,
        bids: [
          ["49900", "2"],
          ["49500", "-4"],
        ],
      }),
    ).toEqual(["bids[1][1]: expected a positive decimal string"]);
    expect(issuesOf({ ...good, asks: [["50100", "0"]] })).toEqual([
      "asks[0][1]: expected a positive decimal string",
    ]);
  });

  it("refuses an empty side", () => {
    expect(issuesOf({ ...good, bids: [] })).toEqual([
      "bids: expected at least one level: an empty side has no depth to walk",
    ]);
  });

  it("in a portfolio document, names the asset and the level", () => {
    const parsed = PortfolioDocument.safeParse(
      portfolioDocument({
        depth: {
          BTC: {
            ...designBook,
            bids: [
              ["49900", "2"],
              ["49950", "1"],
            ],
          },
        },
      }),
    );
    expect(parsed.success).toBe(false);
    expect(issuesFromZod(parsed.error as never).map((i) => i.path)).toEqual(["depth.BTC.bids[1][0]"]);
  });

  it("a depth file may be one snapshot, a list, or snapshots by asset; a second snapshot of an asset is refused", () => {
    const one = { asset: "BTC", ...designBook };
    for (const input of [one, [one], { BTC: designBook }]) {
      const parsed = depthFileSchema(input).safeParse(input);
      expect(parsed.success && Object.keys(parsed.data)).toEqual(["BTC"]);
    }
    const twice = [one, one];
    const parsed = depthFileSchema(twice).safeParse(twice);
    expect(parsed.success ? [] : issuesFromZod(parsed.error).map((i) => i.path)).toEqual(["[1].asset"]);
  });
});
