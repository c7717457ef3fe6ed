/**
 * Four more crashes as hourly paths (DESIGN §3.12), anchored on the episode facts of
 * shared/reference/stress-and-exposure.md §1.1 (sources R1–R47 there). Only the anchors marked as
 * sourced are observed figures; every other anchor is an assumption that shapes the path around
 * them (stated in each provenance), and the hours between anchors are linear interpolation.
 * Implied vols: the last anchor column is BTC's, ETH is BTC + 0.2 and SOL is ETH + 0.2 (reference
 * §1.4: ETH ≈ BTC + 10–25 vols, stressed BTC 80–130); they are assumptions.
 */
import { anchoredPath, type ShippedPath } from "./path.ts";

const vols = (btc: number, withSol: boolean) => ({
  BTC: btc.toFixed(4),
  ETH: (btc + 0.2).toFixed(4),
  ...(withSol ? { SOL: (btc + 0.4).toFixed(4) } : {}),
});

const BTC = { asset: "BTC", decimals: 2 };
const ETH = { asset: "ETH", decimals: 2 };
const SOL = { asset: "SOL", decimals: 3 };

function path(
  columns: readonly { asset: string; decimals: number }[],
  anchors: readonly (readonly [string, ...number[]])[],
) {
  const withSol = columns.some((c) => c.asset === "SOL");
  return () => anchoredPath(columns, anchors, (btcVol) => vols(btcVol, withSol));
}

export const CRASHES: Record<string, ShippedPath> = {
  "black-thursday-2020": {
    description:
      "Black Thursday, 2020-03-11 → 03-14, hourly: BTC −51.6% peak to trough, ETH to ≈$90, DAI at $1.10",
    provenance: {
      sources:
        "reference §1.1 E1 and §1.2 (R1, R3–R6, R10): Coinbase BTC $7,969 → $3,858; BTC −37.5% close to close on 3/12; ETH −43% close to close, low ≈$90 (grade C); DAI traded up to ≈$1.10",
      sampled:
        "BTC 7,969 (3/12 00:00) and 3,858 (3/13 02:00); ETH 195.6 and ≈90; the 3/12 closes (BTC 4,970, ETH 111.5) from the close-to-close moves; DAI 1.10 at the low",
      interpolated:
        "3/11 levels, the 3/12 12:00 midpoint, the rebound (3/13 12:00, 3/14) and the hour of the low are assumptions; hours between anchors are linear. SOL and stETH did not trade yet: the replay keeps the portfolio's prices for them",
    },
    path: path(
      [BTC, ETH, { asset: "DAI", decimals: 4 }],
      [
        ["2020-03-11T00:00:00Z", 7900, 200, 1.0, 0.7],
        ["2020-03-12T00:00:00Z", 7969, 195.6, 1.0, 0.75],
        ["2020-03-12T12:00:00Z", 6100, 140, 1.02, 1.1],
        ["2020-03-12T23:00:00Z", 4970, 111.5, 1.06, 1.4],
        ["2020-03-13T02:00:00Z", 3858, 90, 1.1, 1.6],
        ["2020-03-13T12:00:00Z", 5000, 125, 1.04, 1.3],
        ["2020-03-14T23:00:00Z", 5200, 124, 1.01, 1.0],
      ],
    ),
  },
  "may-2021": {
    description: "19 May 2021, 05-18 → 05-21, hourly: BTC ≈−30% to $30k, ETH ≈−44% to $1,900",
    provenance: {
      sources:
        "reference §1.1 E2 (R13): BTC ≈$43k → $30k (≈−30%); ETH −40 to −46% to ≈$1,900; DOGE and BNB ≈−40–50% (grades B/C)",
      sampled: "BTC 42,900 at 5/19 00:00 and 30,000 at the low; ETH 1,900 at the low",
      interpolated:
        "ETH's open (3,400, so the low is −44%), SOL (−45% from 46 to 25.3, taken from the DOGE/BNB range), the hour of the low (13:00) and the recovery anchors are assumptions; hours between anchors are linear",
    },
    path: path(
      [BTC, ETH, SOL],
      [
        ["2021-05-18T00:00:00Z", 43500, 3500, 50, 0.75],
        ["2021-05-19T00:00:00Z", 42900, 3400, 46, 0.8],
        ["2021-05-19T13:00:00Z", 30000, 1900, 25.3, 1.5],
        ["2021-05-19T23:00:00Z", 37000, 2450, 33, 1.2],
        ["2021-05-20T23:00:00Z", 40600, 2780, 40, 1.0],
      ],
    ),
  },
  "aug-2024": {
    description:
      "5 Aug 2024 yen-carry unwind, 08-04 → 08-06, hourly: BTC −15.1% and ETH −21.4% in under 5 hours",
    provenance: {
      sources:
        "reference §1.1 E7 (R38): BTC $58,350 → $49,513 in under 5 h; ETH $2,695 → $2,118; SOL ≈−30% over the week (grade B)",
      sampled: "BTC 58,350 (8/4 22:00) and 49,513 (8/5 03:00); ETH 2,695 and 2,118 at the same hours",
      interpolated:
        "the 8/4 open, SOL (148 → 115, −22% on the day, inside the week's ≈−30%) and the rebound anchors are assumptions; hours between anchors are linear",
    },
    path: path(
      [BTC, ETH, SOL],
      [
        ["2024-08-04T00:00:00Z", 60700, 2900, 160, 0.45],
        ["2024-08-04T22:00:00Z", 58350, 2695, 148, 0.55],
        ["2024-08-05T03:00:00Z", 49513, 2118, 115, 0.9],
        ["2024-08-05T23:00:00Z", 54000, 2450, 135, 0.7],
        ["2024-08-06T23:00:00Z", 56000, 2520, 145, 0.6],
      ],
    ),
  },
  "oct-2025": {
    description:
      "10 Oct 2025 tariff cascade, 10-10 → 10-12, hourly: BTC −12.7%, ETH −18%, SOL −31% in one hour",
    provenance: {
      sources:
        "reference §1.1 E10 (R42–R47): BTC ≈$122k → CoinDesk CADLI low $106,560; ETH −16% to >20%, CADLI low $3,551; SOL −31% in 45 min, CADLI low $174 (grades A/B)",
      sampled:
        "BTC 122,000 (10/10 20:00) and 106,560 (21:00); ETH 3,551 and SOL 174 at 21:00; SOL's 252 before the fall follows from −31%",
      interpolated:
        "ETH before the fall (4,350, so −18%), the 10/10 open and the recovery anchors are assumptions; the minute lows are put on the 21:00 hour; hours between anchors are linear. USDe and wBETH depegs were Binance-only and are not in this path",
    },
    path: path(
      [BTC, ETH, SOL],
      [
        ["2025-10-10T00:00:00Z", 121500, 4350, 245, 0.45],
        ["2025-10-10T20:00:00Z", 122000, 4350, 252, 0.45],
        ["2025-10-10T21:00:00Z", 106560, 3551, 174, 0.9],
        ["2025-10-10T23:00:00Z", 112000, 3800, 185, 0.75],
        ["2025-10-11T23:00:00Z", 111000, 3750, 180, 0.6],
      ],
    ),
  },
};
