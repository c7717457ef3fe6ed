import type { ScenarioPackInput } from "@backing/contracts";

/**
 * The shipped scenario pack: the twelve scenarios of shared/reference/stress-and-exposure.md §6.
 * Source keys (E…, R…, D…) point at that file's tables and references; `*` values there (proxies
 * through crash betas, or choices) are noted per scenario. Price moves are relative USD moves,
 * applied instantly; pegs are USD levels for stablecoins and ratios to ETH for stETH/wstETH; vol
 * shifts are absolute on 30-day ATM implied vol; depthMultiplier scales order-book depth (§5).
 */
const eth = (ratio: string) => ({ stETH: ratio, wstETH: ratio });

export const DEFAULT_SCENARIO_PACK: ScenarioPackInput = {
  id: "backing-default",
  version: "2026-11-24",
  scenarios: [
    {
      id: "HIST_2020_03_BLACK_THURSDAY",
      name: "Black Thursday, March 2020",
      type: "historical",
      horizon: "P1D",
      shocks: {
        BTC: { price: "-0.50", vol: "0.80" },
        ETH: { price: "-0.55", vol: "1.00" },
        SOL: { price: "-0.65" },
      },
      pegs: eth("0.97"),
      depthMultiplier: "0.2",
      provenance: {
        sources: ["E1"],
        confidence: "A/B",
        notes:
          "Coinbase −51.6% peak to trough, ETH ≈$195→$90. SOL, stETH, vol shifts and depth are proxies (β≈1.3).",
      },
    },
    {
      id: "HIST_2021_05_19_LEVERAGE_FLUSH",
      name: "May 19, 2021 leverage flush",
      type: "historical",
      horizon: "P1D",
      shocks: {
        BTC: { price: "-0.30", vol: "0.50" },
        ETH: { price: "-0.45", vol: "0.60" },
        SOL: { price: "-0.45" },
      },
      pegs: eth("0.97"),
      depthMultiplier: "0.3",
      // The euphoric run-up into the flush paid 0.1–0.3% per 8 h to the shorts (issue 20's figures;
      // Binance's Funding Amount = Mark × size × rate, margin-methodology §1.4): 3 intervals in P1D.
      funding: { BTC: "0.001", ETH: "0.001", SOL: "0.003" },
      provenance: {
        sources: ["E2"],
        confidence: "A/B",
        notes:
          "$43k→$30k, ETH −40 to −46%, $8.6–9bn liquidations. SOL, stETH, vols, depth are proxies. Funding 0.1–0.3% per 8 h (longs pay), as in the run-up.",
      },
    },
    {
      id: "HIST_2022_05_TERRA_UST",
      name: "Terra/UST collapse, May 2022",
      type: "historical",
      horizon: "P7D",
      shocks: {
        BTC: { price: "-0.28", vol: "0.60" },
        ETH: { price: "-0.33", vol: "0.60" },
        SOL: { price: "-0.40" },
      },
      pegs: { ...eth("0.953"), USDT: "0.95" },
      depthMultiplier: "0.5",
      provenance: {
        sources: ["E3", "R14", "R15", "R16", "R17", "R18"],
        confidence: "A/B",
        notes: "7-day moves; stETH 4.7% discount; USDT 0.948–0.95; 1m IV ≈130. SOL and depth are proxies.",
      },
    },
    {
      id: "HIST_2022_06_CELSIUS_3AC_STETH",
      name: "Celsius / 3AC / stETH discount, June 2022",
      type: "historical",
      horizon: "P7D",
      shocks: {
        BTC: { price: "-0.35", vol: "0.60" },
        ETH: { price: "-0.35", vol: "0.60" },
        SOL: { price: "-0.40" },
      },
      pegs: { ...eth("0.93"), USDC: "0.99", USDT: "0.99" },
      depthMultiplier: "0.5",
      provenance: {
        sources: ["E4", "R20", "R21", "R22", "R23"],
        confidence: "A/B",
        notes:
          "BTC/ETH −35% in the week; stETH record discount ≈7–8% (tail variant 0.92). USDT and depth are proxies.",
      },
    },
    {
      id: "HIST_2022_11_FTX",
      name: "FTX / Alameda collapse, November 2022",
      type: "historical",
      horizon: "P7D",
      shocks: {
        BTC: { price: "-0.25", vol: "0.40" },
        ETH: { price: "-0.34", vol: "0.60" },
        SOL: { price: "-0.60" },
      },
      pegs: { ...eth("0.98"), USDT: "0.97" },
      depthMultiplier: "0.6",
      provenance: {
        sources: ["E5", "R30", "R31", "R32", "R33", "R36", "R37"],
        confidence: "A/B",
        notes:
          "Peak-to-trough from weekly highs and lows; SOL −47 to −60%; ETH DVOL >150; BTC 2% depth −41%. stETH and the BTC vol shift are proxies.",
      },
    },
    {
      id: "HIST_2023_03_USDC_SVB",
      name: "USDC depeg on SVB, March 2023",
      type: "historical",
      horizon: "P3D",
      shocks: {
        BTC: { price: "-0.12", vol: "0.15" },
        ETH: { price: "-0.12", vol: "0.15" },
        SOL: { price: "-0.15" },
      },
      pegs: { USDC: "0.87", USDT: "1.02" },
      depthMultiplier: "0.7",
      provenance: {
        sources: ["E6", "R25", "R26", "R27", "R28", "R29"],
        confidence: "A/B",
        notes:
          "USDC 0.87–0.88 over a weekend without fiat rails, USDT up to 1.06 on Kraken. ETH, SOL, vols and depth are proxies.",
      },
    },
    {
      id: "HIST_2024_08_05_CARRY_UNWIND",
      name: "Yen-carry unwind, August 5, 2024",
      type: "historical",
      horizon: "P1D",
      shocks: {
        BTC: { price: "-0.15", vol: "0.30" },
        ETH: { price: "-0.21", vol: "0.35" },
        SOL: { price: "-0.22" },
      },
      pegs: eth("0.995"),
      depthMultiplier: "0.5",
      provenance: {
        sources: ["E7", "R38", "R39"],
        confidence: "B",
        notes: "$58.35k→$49.5k, $2,695→$2,118; aggregate liquidity −50%. SOL, stETH, vols are proxies.",
      },
    },
    {
      id: "HIST_2025_10_10_CASCADE",
      name: "October 10, 2025 liquidation cascade",
      type: "historical",
      horizon: "PT1H",
      shocks: {
        BTC: { price: "-0.14", vol: "0.25" },
        ETH: { price: "-0.21", vol: "0.25" },
        SOL: { price: "-0.31" },
      },
      pegs: eth("0.99"),
      depthMultiplier: "0.1",
      provenance: {
        sources: ["E10", "R42", "R44", "R45", "R46", "R47", "R48"],
        confidence: "A/B",
        notes:
          "CoinGlass/Block Scholes moves; books empty near mid ($19bn liquidated). Venue-oracle variant (LST ×0.11, USDe 0.65) not included.",
      },
    },
    {
      id: "HYP_USDT_DEPEG",
      name: "USDT depeg to 0.85",
      type: "hypothetical",
      horizon: "P2D",
      shocks: {
        BTC: { price: "-0.15", vol: "0.40" },
        ETH: { price: "-0.18", vol: "0.45" },
        SOL: { price: "-0.25" },
      },
      pegs: { ...eth("0.98"), USDC: "1.01", USDT: "0.85" },
      depthMultiplier: "0.3",
      provenance: {
        sources: ["R50", "R17", "R33"],
        confidence: "C",
        notes: "USDT anchored on the 2018 Kraken low ($0.85–0.86) and 2022 prints; crypto moves are proxies.",
      },
    },
    {
      id: "HYP_LST_RUN_EXIT_QUEUE",
      name: "LST run with a long exit queue",
      type: "hypothetical",
      horizon: "P7D",
      shocks: {
        BTC: { price: "-0.15", vol: "0.30" },
        ETH: { price: "-0.25", vol: "0.45" },
        SOL: { price: "-0.25" },
      },
      pegs: eth("0.90"),
      depthMultiplier: "0.5",
      provenance: {
        sources: ["R23", "R41"],
        confidence: "C",
        notes:
          "Beyond the 2022 floor (0.92–0.93). The reference suggests depth 0.15 for LST pools and 0.5 elsewhere; one multiplier per scenario here, so 0.5.",
      },
    },
    {
      id: "HYP_SHORT_SQUEEZE_UP",
      name: "Short squeeze up",
      type: "hypothetical",
      horizon: "P1D",
      shocks: {
        BTC: { price: "0.25", vol: "0.40" },
        ETH: { price: "0.35", vol: "0.50" },
        SOL: { price: "0.50" },
      },
      depthMultiplier: "0.3",
      // A squeeze bids the perps over the index: funding at 0.1–0.3% per 8 h, longs paying the
      // squeezed shorts (issue 20's figures): 3 intervals in P1D.
      funding: { BTC: "0.001", ETH: "0.002", SOL: "0.003" },
      provenance: {
        sources: ["R46"],
        confidence: "C",
        notes:
          "Mirror of the October 2025 cascade for short books; 2025-10-10 also liquidated $1.6bn of shorts. Funding 0.1–0.3% per 8 h (longs pay).",
      },
    },
    {
      id: "REV_SYSTEMIC_DOUBLE_DEPEG",
      name: "Systemic crash with a double stablecoin depeg",
      type: "reverse",
      horizon: "P5D",
      shocks: {
        BTC: { price: "-0.60", vol: "1.20" },
        ETH: { price: "-0.70", vol: "1.50" },
        SOL: { price: "-0.85" },
      },
      pegs: { ...eth("0.85"), USDC: "0.88", USDT: "0.85" },
      depthMultiplier: "0.05",
      provenance: {
        sources: ["M5", "M6"],
        confidence: "beyond plausible",
        notes: "EMIR-style reverse stress: the severity k at which the fund runs out is the answer.",
      },
    },
  ],
};
