import { seededRandom } from "@backing/core";

/**
 * A deterministic synthetic book (seeded PRNG, no clock) for benchmarks and the large-document
 * test: each account holds 3 collateral assets and `perps` perps, optionally `options` options.
 */
const UNDERLYINGS = [
  { asset: "BTC", price: 100000 },
  { asset: "ETH", price: 3000 },
  { asset: "SOL", price: 150 },
];

export interface SyntheticBookOptions {
  accounts: number;
  perps?: number;
  options?: number;
  marginMode?: "standard" | "portfolio";
  seed?: number;
}

export function syntheticAccount(i: number, random: () => number, options: SyntheticBookOptions) {
  const positions: Record<string, unknown>[] = [];
  for (let p = 0; p < (options.perps ?? 5); p++) {
    const u = UNDERLYINGS[p % UNDERLYINGS.length] ?? UNDERLYINGS[0];
    if (!u) throw new Error("unreachable");
    const notional = 1000 + random() * 200000;
    const size = ((random() < 0.5 ? -1 : 1) * notional) / u.price;
    positions.push({
      instrument: `${u.asset}-PERP-${p}`,
      type: "perp",
      underlying: u.asset,
      size: size.toFixed(4),
      entryPrice: (u.price * (0.9 + random() * 0.2)).toFixed(2),
      funding: (random() * 20 - 10).toFixed(2),
    });
  }
  for (let o = 0; o < (options.options ?? 0); o++) {
    const u = UNDERLYINGS[o % 2] ?? UNDERLYINGS[0];
    if (!u) throw new Error("unreachable");
    positions.push({
      instrument: `${u.asset}-OPT-${o}`,
      type: "option",
      underlying: u.asset,
      optionType: random() < 0.5 ? "call" : "put",
      strike: String(Math.round(u.price * (0.8 + random() * 0.4))),
      expiry: "2026-03-27T08:00:00Z",
      size: ((random() < 0.5 ? -1 : 1) * (1 + random() * 10)).toFixed(1),
    });
  }
  return {
    id: `acct-${i}`,
    venue: `venue-${i % 3}`,
    marginMode: options.marginMode ?? "standard",
    collateral: {
      USDC: (50000 + random() * 500000).toFixed(2),
      BTC: (random() * 3).toFixed(8),
      ETH: (random() * 40).toFixed(6),
    },
    positions,
  };
}

export function syntheticPortfolio(options: SyntheticBookOptions) {
  const random = seededRandom(options.seed ?? 42);
  return {
    asOf: "2026-01-15T00:00:00Z",
    prices: {
      BTC: { index: "100000", mark: "100050" },
      ETH: { index: "3000", mark: "3001.5" },
      SOL: { index: "150", mark: "150.02" },
      USDC: { index: "1" },
    },
    volatility: { BTC: "0.55", ETH: "0.7" },
    accounts: Array.from({ length: options.accounts }, (_, i) => syntheticAccount(i, random, options)),
  };
}
