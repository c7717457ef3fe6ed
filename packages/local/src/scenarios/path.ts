/** A shipped price path: hourly points, each with the prices and implied vols a feed would send. */
export interface PathPoint {
  timestamp: string;
  prices: Record<string, string>;
  /** Implied volatility (annualised) per asset at this point, carried on its price events. */
  volatility: Record<string, string>;
}

export interface ShippedPath {
  description: string;
  /** Where the numbers come from: the sources, what was sampled, what was interpolated or assumed. */
  provenance: { sources: string; sampled: string; interpolated: string };
  path: () => PathPoint[];
}

const HOUR = 3_600_000;

/**
 * Hourly points between anchors `[iso, ...prices, btcVol]`, each number interpolated linearly:
 * `columns` name the assets of the prices and the decimals they print with; `volatility` turns
 * the interpolated BTC implied vol into the vols the point's events carry. The last anchor is included.
 */
export function anchoredPath(
  columns: readonly { asset: string; decimals: number }[],
  anchors: readonly (readonly [iso: string, ...values: number[]])[],
  volatility: (btcVol: number) => Record<string, string>,
): PathPoint[] {
  const points: PathPoint[] = [];
  for (let i = 0; i < anchors.length - 1; i++) {
    const [startIso, ...start] = anchors[i] as readonly [string, ...number[]];
    const [endIso, ...end] = anchors[i + 1] as readonly [string, ...number[]];
    const t0 = Date.parse(startIso);
    const t1 = Date.parse(endIso);
    const last = i === anchors.length - 2;
    const at = (c: number, f: number) =>
      (start[c] as number) + ((end[c] as number) - (start[c] as number)) * f;
    for (let t = t0; t < t1 || (last && t === t1); t += HOUR) {
      const f = (t - t0) / (t1 - t0);
      points.push({
        timestamp: new Date(t).toISOString(),
        prices: Object.fromEntries(
          columns.map(({ asset, decimals }, c) => [asset, at(c, f).toFixed(decimals)]),
        ),
        volatility: volatility(at(columns.length, f)),
      });
    }
  }
  return points;
}
