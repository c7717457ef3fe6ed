import type { RiskParamsDocument } from "@backing/contracts";

/**
 * The shipped risk parameter set. Exchange parameters are dated facts (they change often):
 * each number carries its source or rationale; "ref §x" points into
 * shared/reference/margin-methodology.md, where the URLs are.
 */
export const DEFAULT_RISK_PARAMS: RiskParamsDocument = {
  version: "2026-01-15",
  effectiveFrom: "2026-01-15T00:00:00Z",
  collateral: {
    // Deribit announcement 2025-07-08: USDC cross-collateral haircut 0% (ref §2.4).
    USDC: { haircutTiers: [{ upTo: null, haircut: "0" }] },
    // Crypto.com derivatives collateral weight 0.975 for USDT and DAI (ref §2.4).
    USDT: { haircutTiers: [{ upTo: null, haircut: "0.025" }] },
    DAI: { haircutTiers: [{ upTo: null, haircut: "0.025" }] },
    // Binance Multi-Assets mode: BTC and ETH 5% (ref §1.3). Above $100M the slice counts at 90%:
    // Binance's tiered collateral ratio starts cutting BTC at 100M USDT (ref §1.3); DESIGN §3.5 example.
    BTC: {
      haircutTiers: [
        { upTo: "100000000", haircut: "0.05" },
        { upTo: null, haircut: "0.10" },
      ],
    },
    ETH: {
      haircutTiers: [
        { upTo: "100000000", haircut: "0.05" },
        { upTo: null, haircut: "0.10" },
      ],
    },
    // Drift maintenance asset weight 90% for SOL (ref §4.2); halved again above $50M, where one
    // account's collateral is a meaningful share of SOL spot depth (rationale, not a venue fact).
    SOL: {
      haircutTiers: [
        { upTo: "50000000", haircut: "0.10" },
        { upTo: null, haircut: "0.20" },
      ],
    },
    // Deribit from 2026-01-13: stETH haircut 7.5% (was 15%) (ref §2.4). wstETH is wrapped stETH
    // with the same depeg risk, so it gets the same haircut.
    stETH: { haircutTiers: [{ upTo: null, haircut: "0.075" }] },
    wstETH: { haircutTiers: [{ upTo: null, haircut: "0.075" }] },
  },
  // Loans count 10% heavier: Drift's maintenance liability weights are 105–110% (ref §4.2).
  liabilitySurcharge: "0.1",
  brackets: {
    // Binance BTCUSDT 125x table dated 2021-03-18 (ref §1.1); cum derived and matching the
    // published 1,300 and 16,300.
    BTC: [
      { notionalCap: "50000", maxLeverage: "125", mmr: "0.004" },
      { notionalCap: "250000", maxLeverage: "100", mmr: "0.005" },
      { notionalCap: "1000000", maxLeverage: "50", mmr: "0.01" },
      { notionalCap: "10000000", maxLeverage: "20", mmr: "0.025" },
      { notionalCap: "20000000", maxLeverage: "10", mmr: "0.05" },
      { notionalCap: "50000000", maxLeverage: "5", mmr: "0.10" },
      { notionalCap: "100000000", maxLeverage: "4", mmr: "0.125" },
      { notionalCap: "200000000", maxLeverage: "3", mmr: "0.15" },
      { notionalCap: "300000000", maxLeverage: "2", mmr: "0.25" },
      { notionalCap: "500000000", maxLeverage: "1", mmr: "0.50" },
    ],
    // Binance ETHUSDT table of the same era. Check against the FAQ's quoted example
    // "356,512.508 (4918775.081 × 10.00% − 135365)" (ref §1.1): the cum recursion over these rows
    // gives 135,365 at the 10% bracket.
    ETH: [
      { notionalCap: "10000", maxLeverage: "100", mmr: "0.005" },
      { notionalCap: "100000", maxLeverage: "75", mmr: "0.0065" },
      { notionalCap: "500000", maxLeverage: "50", mmr: "0.01" },
      { notionalCap: "1000000", maxLeverage: "25", mmr: "0.02" },
      { notionalCap: "2000000", maxLeverage: "10", mmr: "0.05" },
      { notionalCap: "5000000", maxLeverage: "5", mmr: "0.10" },
      { notionalCap: "10000000", maxLeverage: "4", mmr: "0.125" },
      { notionalCap: "20000000", maxLeverage: "3", mmr: "0.15" },
      { notionalCap: "50000000", maxLeverage: "2", mmr: "0.25" },
    ],
    // Hyperliquid SOL: 0–70M at 20x, MMR = half the IMR at max leverage = 2.5% (ref §4.4). Beyond
    // 70M: 10x / 5%, Hyperliquid's step for large alt positions (rationale).
    SOL: [
      { notionalCap: "70000000", maxLeverage: "20", mmr: "0.025" },
      { notionalCap: "200000000", maxLeverage: "10", mmr: "0.05" },
    ],
  },
  // Deribit standard margin for short options (tslab transcription, ref §2.2).
  options: { shortInitialBase: "0.15", shortInitialFloor: "0.10", shortMaintenance: "0.075" },
  // Deribit portfolio margin, btc_usd pair parameters of `private/pme/simulate` (ref §2.3).
  portfolio: {
    priceRange: "0.16",
    buckets: 4,
    volUp: "0.5",
    volDown: "0.25",
    mmFactor: "0.8",
    contingency: "0.01",
  },
  // DESIGN §3.5 defaults: warn 20% above IM; cure must clear the threshold by 2%; 24 h call deadline.
  status: { warningBuffer: "0.2", cureBuffer: "0.02", callDeadlineHours: 24 },
  // DESIGN §3.5 defaults; Binance drops an index source after 10 s without an update (ref §1.4).
  priceGuards: { maxPriceAgeSeconds: 120, maxJump: "0.25", confirmAfterSeconds: 30 },
  stress: {
    // A placeholder for the venue's own fund: set yours in the params document.
    insuranceFund: "50000000",
    // Square-root impact ΔP/P = Y·σ_daily·sqrt(Q/V), calibrated as the reference suggests (§5):
    // Y = 1 and V chosen so that selling the 1% depth moves the price 1%, i.e. V = depth₁% / (0.01/σ)².
    // BTC: 1% depth ≈ $470M pre-FTX (D1), σ 4%/day → V = 470M × 16 = 7.52bn.
    // ETH: 1% depth ≈ $230M (D2, 2024), σ 5%/day → V = 230M × 25 = 5.75bn.
    // SOL: 2% depth ≈ 1M SOL before FTX (R36) ≈ $150M at $150, σ 7%/day, calibrated at 2%:
    //      V = 150M / (0.02/0.07)² ≈ 1.84bn.
    impact: {
      BTC: { Y: "1", dailyVol: "0.04", dailyVolume: "7520000000" },
      ETH: { Y: "1", dailyVol: "0.05", dailyVolume: "5750000000" },
      SOL: { Y: "1", dailyVol: "0.07", dailyVolume: "1840000000" },
    },
    maxCascadeRounds: 20,
  },
  liquidation: {
    // DESIGN §3.12 default: a liquidated account's positions are closed all at once.
    stepFraction: "1",
    // Partial closes stop halfway between MM and IM (IM = 2 × MM on the brackets above), as Mango v4's
    // LiquidationEnd health sits between Maint and Init so that liquidating "until init" stops
    // over-liquidating (reference margin-methodology.md §7 item 4, mango-v4 PR #447).
    targetMargin: "1.5",
    // No fee by default: DESIGN §3.8's cascade charges none, and the stress numbers keep that
    // contract. Venues charge one into their insurance fund (0.5% of the closed notional is of the
    // order they publish; the demo's venues charge it): set your venue's own.
    fee: "0",
  },
  exposure: {
    // One side's depth within 1% of mid, USD (Kaiko's definition, reference §5). BTC: aggregate 1%
    // depth ≈ $470M pre-FTX (D1). ETH: ≈ $230M, May–Jul 2024 (D2). SOL: 2% depth ≈ 1M SOL before FTX
    // (R36), halved for 1% on a uniform book ≈ 0.5M SOL ≈ $75M at $150. Set your venue's own.
    depth: { BTC: "470000000", ETH: "230000000", SOL: "75000000" },
    // Reference §5: 0.6 FTX-like, 0.5 Aug-2024-like, 0.1 for 2025-10-10-like minutes.
    depthMultiplier: "1",
    // 1% bins over ±20%, the widest move of CumLiq (DESIGN §3.9).
    heatmap: { binWidth: "0.01", range: "0.2" },
  },
};
