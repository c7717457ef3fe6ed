import type { DepthSnapshot } from "@backing/contracts";
import { Decimal } from "@backing/core";

/**
 * The shape of a book away from its mid: cumulative depth at each distance, as a multiple of the
 * depth within 1 % (Kaiko's buckets, reference stress-and-exposure.md §5). Depth thins with
 * distance: half of the 1 % depth sits within 0.5 %, the 2 % depth is 1.7× the 1 % (BTC's 11,800
 * BTC at 2 % in Nov 2022 against ≈ 7,000 of it within 1 %), and past 2 % the meaningful bids sit in
 * the 4 % and 10 % bands (as on 2025-10-10).
 */
const SHAPE: readonly [distance: string, cumulative: string][] = [
  ["0.001", "0.15"],
  ["0.0025", "0.3"],
  ["0.005", "0.55"],
  ["0.01", "1"],
  ["0.02", "1.7"],
  ["0.04", "2.6"],
  ["0.1", "4"],
];

/**
 * A depth snapshot per asset around its price, for the demo's venues to post: each side holds
 * `depth1Pct[asset]` USD within 1 % of the mid (the params' exposure depth: $470M for BTC pre-FTX,
 * $230M for ETH, $75M for SOL), shaped by SHAPE. Sizes in base units, to 6 decimals.
 */
export function demoDepth(
  prices: Record<string, string>,
  depth1Pct: Record<string, string>,
  timestamp: string,
): DepthSnapshot[] {
  return Object.entries(depth1Pct)
    .filter(([asset]) => prices[asset] !== undefined)
    .map(([asset, usd]) => {
      const mid = new Decimal(prices[asset] as string);
      const side = (sign: 1 | -1) => {
        let before = new Decimal(0);
        return SHAPE.map(([distance, cumulative]): [string, string] => {
          const price = mid.times(new Decimal(1).plus(new Decimal(distance).times(sign))).toDecimalPlaces(4);
          const notional = new Decimal(cumulative).times(usd);
          const size = notional.minus(before).div(price).toDecimalPlaces(6);
          before = notional;
          return [price.toFixed(), size.toFixed()];
        });
      };
      return { asset, timestamp, bids: side(-1), asks: side(1) };
    });
}
