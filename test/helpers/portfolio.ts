import { type AccountBook, DEFAULT_RISK_PARAMS, type Portfolio, parsePortfolio } from "@backing/core";

/** A minimal valid portfolio document; tests override what they exercise. */
export function portfolioDocument(overrides: Record<string, unknown> = {}) {
  return {
    asOf: "2026-01-15T00:00:00Z",
    prices: {
      BTC: { index: "100000" },
      ETH: { index: "3000" },
      USDC: { index: "1" },
      USDT: { index: "1" },
    },
    accounts: [],
    ...overrides,
  };
}

export function accountDocument(overrides: Record<string, unknown> = {}) {
  return { id: "a-1", venue: "venue-a", collateral: {}, positions: [], ...overrides };
}

export function parse(document: unknown): Portfolio {
  return parsePortfolio(document, DEFAULT_RISK_PARAMS);
}

/** Parses a one-account document and returns the pieces a unit test needs. */
export function single(account: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const portfolio = parse(portfolioDocument({ accounts: [accountDocument(account)], ...overrides }));
  const book = portfolio.accounts[0] as AccountBook;
  return { portfolio, book, market: portfolio.market, params: portfolio.params };
}

export function perp(
  underlying: string,
  size: string,
  entryPrice: string,
  extra: Record<string, unknown> = {},
) {
  return { instrument: `${underlying}-PERP`, type: "perp", underlying, size, entryPrice, ...extra };
}

/** A BTC option position document (expiring 2026-03-27), its mark given or left to Black-76. */
export const btcOption = (optionType: "call" | "put", strike: string, size: string, markPrice?: string) => ({
  instrument: `BTC-20260327-${strike}-${optionType === "call" ? "C" : "P"}`,
  type: "option",
  underlying: "BTC",
  optionType,
  strike,
  expiry: "2026-03-27T08:00:00Z",
  size,
  ...(markPrice === undefined ? {} : { markPrice }),
});
