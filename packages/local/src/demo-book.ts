import type { Account } from "@backing/contracts";
import { seededRandom } from "@backing/core";

export interface DemoBookOptions {
  accounts: number;
  seed?: number;
  /** Prices at the start of the replay (entries are drawn around them). */
  prices: Record<string, string>;
  /** Futures and options expire after the replay ends. */
  futureExpiry: string;
  optionExpiry: string;
}

const UNDERLYINGS = ["BTC", "ETH", "SOL"] as const;

/**
 * A synthetic book shaped like a venue's: equity log-uniform from $5k to $2M; gross leverage mostly
 * 1–4× (70%), some 4–8× (22%), a thin tail 8–20× (8%); long-biased (65% of legs long); perps,
 * futures and, on one account in six, short or long options marked with Black-76; collateral in
 * USDC with mixes of USDT, BTC, ETH and stETH.
 */
export function demoBook(options: DemoBookOptions): Account[] {
  const next = seededRandom(options.seed ?? 2022);
  const price = (asset: string) => Number(options.prices[asset] ?? "1");
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: options.accounts }, (_, i): Account => {
    const equity = 5000 * 400 ** next();
    const tail = next();
    const leverage = tail < 0.7 ? 1 + 3 * next() : tail < 0.92 ? 4 + 4 * next() : 8 + 12 * next();
    const collateral: Record<string, string> = {};
    const mix = next();
    const add = (asset: string, usd: number) => {
      const decimals = asset === "BTC" ? 8 : asset === "USDC" || asset === "USDT" ? 2 : 6;
      collateral[asset] = (usd / price(asset)).toFixed(decimals);
    };
    if (mix < 0.5) add("USDC", equity);
    else if (mix < 0.7) {
      add("USDC", equity * 0.6);
      add("USDT", equity * 0.4);
    } else if (mix < 0.85) {
      add("USDC", equity * 0.5);
      add("BTC", equity * 0.5);
    } else {
      add("USDC", equity * 0.4);
      add(next() < 0.5 ? "ETH" : "stETH", equity * 0.6);
    }
    const legs = 1 + Math.floor(next() * 3);
    const positions: Account["positions"] = [];
    for (let leg = 0; leg < legs; leg++) {
      const underlying = UNDERLYINGS[leg] ?? "BTC";
      const notional = (equity * leverage) / legs;
      const side = next() < 0.65 ? 1 : -1;
      const mark = price(underlying);
      const size = ((side * notional) / mark).toFixed(underlying === "BTC" ? 4 : 3);
      const entryPrice = (mark * (0.97 + 0.06 * next())).toFixed(2);
      if (next() < 0.75) {
        positions.push({
          instrument: `${underlying}-PERP`,
          type: "perp",
          underlying,
          size,
          entryPrice,
          funding: ((next() - 0.5) * equity * 0.001).toFixed(2),
        });
      } else {
        positions.push({
          instrument: `${underlying}-FUT`,
          type: "future",
          underlying,
          size,
          entryPrice,
          expiry: options.futureExpiry,
        });
      }
    }
    if (i % 6 === 0) {
      const underlying = pick(["BTC", "ETH"] as const);
      const optionType = next() < 0.5 ? "put" : "call";
      const strike = Math.round(
        price(underlying) * (optionType === "put" ? 0.85 + 0.1 * next() : 1.05 + 0.1 * next()),
      );
      const units = (equity * 0.5) / price(underlying);
      positions.push({
        instrument: `${underlying}-${strike}-${optionType === "put" ? "P" : "C"}`,
        type: "option",
        underlying,
        optionType,
        strike: String(strike),
        expiry: options.optionExpiry,
        size: ((next() < 0.6 ? -1 : 1) * units).toFixed(3),
      });
    }
    return {
      id: `acct-${String(i).padStart(6, "0")}`,
      venue: `venue-${"abc"[i % 3]}`,
      marginMode: "standard",
      collateral,
      positions,
    };
  });
}
