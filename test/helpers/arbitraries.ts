import { DEFAULT_RISK_PARAMS, Decimal, marginTotals, parsePortfolio } from "@backing/core";
import fc from "fast-check";

/** A decimal string with up to `decimals` places from an integer count of the smallest unit. */
export function decimalString(min: number, max: number, decimals: number): fc.Arbitrary<string> {
  const scale = 10 ** decimals;
  return fc.integer({ min: Math.round(min * scale), max: Math.round(max * scale) }).map((units) => {
    const negative = units < 0;
    const digits = String(Math.abs(units)).padStart(decimals + 1, "0");
    const whole = digits.slice(0, digits.length - decimals);
    const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
    return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
  });
}

const UNDERLYINGS = ["BTC", "ETH", "SOL"] as const;
const BASE_PRICE = { BTC: 100000, ETH: 3000, SOL: 150 } as const;

export const pricesArbitrary = fc.record({
  BTC: decimalString(20000, 200000, 2),
  ETH: decimalString(500, 8000, 2),
  SOL: decimalString(10, 500, 3),
  stETH: decimalString(400, 8000, 2),
});

export function linearPosition(index: number, longOnly = false) {
  return fc
    .record({
      underlying: fc.constantFrom(...UNDERLYINGS),
      type: fc.constantFrom("perp", "future"),
      units: decimalString(longOnly ? 0.001 : -50, 50, 3),
      entryFactor: fc.double({ min: 0.7, max: 1.3, noNaN: true }),
      funding: decimalString(-500, 500, 2),
    })
    .map(({ underlying, type, units, entryFactor, funding }) => ({
      instrument: `L${index}-${underlying}-${type}`,
      type,
      underlying,
      // Scale BTC positions down so notionals stay in the brackets' ranges.
      size: underlying === "BTC" ? (Number(units) / 10).toFixed(4) : units,
      entryPrice: (BASE_PRICE[underlying] * entryFactor).toFixed(2),
      funding,
      ...(type === "future" ? { expiry: "2026-06-26T08:00:00Z" } : {}),
    }));
}

export function optionPosition(index: number, longOnly = false) {
  return fc
    .record({
      underlying: fc.constantFrom("BTC", "ETH"),
      // A long-only book is long delta: long calls, never long puts.
      optionType: longOnly ? fc.constant("call") : fc.constantFrom("call", "put"),
      strikeFactor: fc.double({ min: 0.6, max: 1.5, noNaN: true }),
      size: decimalString(longOnly ? 0.1 : -5, 5, 1),
      markPrice: fc.option(decimalString(0, 20000, 2), { nil: undefined }),
    })
    .map(({ underlying, optionType, strikeFactor, size, markPrice }) => ({
      instrument: `O${index}-${underlying}-${optionType}`,
      type: "option",
      underlying,
      optionType,
      strike: Math.round(BASE_PRICE[underlying] * strikeFactor).toString(),
      expiry: "2026-03-27T08:00:00Z",
      size,
      ...(markPrice === undefined ? {} : { markPrice }),
    }));
}

export const collateralArbitrary = fc.record(
  {
    USDC: decimalString(-20000, 2000000, 2),
    USDT: decimalString(-20000, 500000, 2),
    BTC: decimalString(0, 20, 8),
    ETH: decimalString(-5, 200, 6),
    stETH: decimalString(0, 100, 6),
  },
  { requiredKeys: [] },
);

export function accountArbitrary(
  id: string,
  options: { longOnly?: boolean; withOptions?: boolean; marginMode?: string } = {},
) {
  const positions = fc
    .tuple(
      fc.array(fc.nat(), { maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: options.withOptions === false ? 0 : 3 }),
    )
    .chain(([linear, opts]) =>
      fc.tuple(
        fc.tuple(...linear.map((_, i) => linearPosition(i, options.longOnly))),
        fc.tuple(...opts.map((_, i) => optionPosition(i, options.longOnly))),
      ),
    )
    .map(([linear, opts]) => [...linear, ...opts]);
  return fc.record({
    id: fc.constant(id),
    venue: fc.constantFrom("venue-a", "venue-b"),
    marginMode: fc.constant(options.marginMode ?? "standard"),
    collateral: collateralArbitrary,
    positions,
  });
}

export function documentOf(prices: Record<string, string>, accounts: unknown[]) {
  return {
    asOf: "2026-01-15T00:00:00Z",
    prices: {
      ...Object.fromEntries(Object.entries(prices).map(([asset, index]) => [asset, { index }])),
      USDC: { index: "1" },
      USDT: { index: "0.9995" },
    },
    volatility: { BTC: "0.55", ETH: "0.7" },
    accounts,
  };
}

/** Cumulative funding the perps settle against (DESIGN §3.10), or none. */
export const cumulativeFundingArbitrary = fc.option(
  fc.integer({ min: -50_000, max: 50_000 }).map((n) => (n / 7).toFixed(6)),
  { nil: undefined },
);

/** A one-account document whose perps settle (fundingIndex 1.5) against `cumulative`, when given. */
export function settledDocument(
  prices: Record<string, string>,
  account: { venue: string; positions: { type: string }[] } & Record<string, unknown>,
  cumulative: string | undefined,
) {
  if (cumulative === undefined) return documentOf(prices, [account]);
  const settling = {
    ...account,
    positions: account.positions.map((p) => (p.type === "perp" ? { ...p, fundingIndex: "1.5" } : p)),
  };
  return {
    ...documentOf(prices, [settling]),
    cumulativeFunding: {
      [account.venue]: { BTC: cumulative, ETH: cumulative, SOL: cumulative, stETH: cumulative },
    },
  };
}

type DrawnAccount = { id: string; collateral: Record<string, string> } & Record<string, unknown>;

/**
 * Random accounts are mostly far from any threshold, where no band is ever tested. Each is given
 * the USDC that puts its equity at `ratio` × its IM (0.85–1.45 spans MARGIN_CALL, WARNING and the
 * cure thresholds), so price paths cross thresholds often. Returns the steered account documents.
 */
export function nearThresholds<A extends DrawnAccount>(
  prices: Record<string, string>,
  drawn: { account: A; ratio: number }[],
): A[] {
  const first = parsePortfolio(
    documentOf(
      prices,
      drawn.map((d) => d.account),
    ),
    DEFAULT_RISK_PARAMS,
  );
  return drawn.map(({ account, ratio }, i) => {
    const book = first.accounts[i];
    if (!book) throw new Error(`account ${i} did not parse`);
    const totals = marginTotals(book, first.market, first.params);
    const usdc = new Decimal(account.collateral.USDC ?? 0)
      .plus(totals.initialMargin.times(ratio).minus(totals.equity))
      .toDecimalPlaces(2);
    return { ...account, collateral: { ...account.collateral, USDC: usdc.toFixed() } };
  });
}
