/**
 * The FTX/Alameda week, 2022-11-06 → 2022-11-14, as an hourly path for BTC, ETH, SOL, USDT, USDC
 * and stETH.
 *
 * Anchors (shared/reference/stress-and-exposure.md §1.1, episode E5, sources R30–R33): BTC −11% on
 * 11/8 and −13% on 11/9, high $21,053 and low $15,682 (−25.5% peak to trough); ETH high $1,634,
 * low $1,083 (−33.7%), −33% from 11/7 to 11/9; SOL −47% to −60% over the week; USDT $0.97 on
 * 11/10 (§1.2). Between the daily anchors the path is interpolated linearly: the hourly shape is
 * an assumption, not observed data. stETH tracks ETH at a 1% discount (no FTX-week fact in the
 * reference; the discount is an assumption).
 */
import type { PathPoint } from "./path.ts";

type Anchor = [iso: string, btc: number, eth: number, sol: number, usdt: number, btcVol: number];

// The last column is BTC's implied volatility. Reference §1.4: stressed BTC IV 80–130 (Terra and 3AC
// peaks ≈130), and FTX week's ETH DVOL over 150 with the ETH–BTC spread blown out to ≈60 vols
// (usually ≈20). The hourly IV path between these levels is an assumption, as is SOL at ETH + 20.
const ANCHORS: Anchor[] = [
  ["2022-11-06T00:00:00Z", 21000, 1610, 35.0, 1.0, 0.5],
  ["2022-11-07T12:00:00Z", 21053, 1634, 33.5, 1.0, 0.55],
  ["2022-11-08T00:00:00Z", 20600, 1570, 31.0, 1.0, 0.65],
  ["2022-11-08T23:00:00Z", 18330, 1330, 20.0, 0.995, 0.9],
  ["2022-11-09T23:00:00Z", 15950, 1100, 14.5, 0.985, 1.1],
  ["2022-11-10T02:00:00Z", 15682, 1083, 13.5, 0.97, 1.0],
  ["2022-11-10T18:00:00Z", 17700, 1310, 16.0, 0.99, 0.85],
  ["2022-11-11T12:00:00Z", 16900, 1270, 14.5, 0.998, 0.8],
  ["2022-11-12T12:00:00Z", 16800, 1255, 14.0, 1.0, 0.75],
  ["2022-11-13T12:00:00Z", 16350, 1215, 14.2, 1.0, 0.7],
  ["2022-11-14T23:00:00Z", 16600, 1240, 14.0, 1.0, 0.65],
];
/** ETH's IV over BTC's: ≈20 vols usually, ≈60 at the FTX peak (reference §1.4); scaled with BTC's stress. */
const ethSpread = (btcVol: number) => 0.2 + Math.max(0, btcVol - 0.6) * 0.8;

const HOUR = 3_600_000;

function interpolate(from: number, to: number, fraction: number, decimals: number): string {
  return (from + (to - from) * fraction).toFixed(decimals);
}

export function ftx2022Path(): PathPoint[] {
  const points: PathPoint[] = [];
  for (let i = 0; i < ANCHORS.length - 1; i++) {
    const [startIso, ...start] = ANCHORS[i] as Anchor;
    const [endIso, ...end] = ANCHORS[i + 1] as Anchor;
    const t0 = Date.parse(startIso);
    const t1 = Date.parse(endIso);
    for (let t = t0; t < t1 || (i === ANCHORS.length - 2 && t === t1); t += HOUR) {
      const f = (t - t0) / (t1 - t0);
      const eth = interpolate(start[1], end[1], f, 2);
      const btcVol = start[4] + (end[4] - start[4]) * f;
      const ethVol = btcVol + ethSpread(btcVol);
      points.push({
        timestamp: new Date(t).toISOString(),
        prices: {
          BTC: interpolate(start[0], end[0], f, 2),
          ETH: eth,
          SOL: interpolate(start[2], end[2], f, 3),
          USDT: interpolate(start[3], end[3], f, 4),
          USDC: "1",
          stETH: (Number(eth) * 0.99).toFixed(2),
        },
        volatility: {
          BTC: btcVol.toFixed(4),
          ETH: ethVol.toFixed(4),
          SOL: (ethVol + 0.2).toFixed(4),
        },
      });
    }
  }
  return points;
}
