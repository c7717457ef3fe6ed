/**
 * Kernel benchmark (npm run bench:kernel): accounts per second on one core for
 *   1. exact standard evaluation (3 collateral assets, 5 perps): equity, IM, MM, status;
 *   2. the same with per-position figures and liquidation prices (`backing evaluate`), on the
 *      fixed-point path, then also printed as its JSON, and on the Decimal path it replaced;
 *   3. exact portfolio-margin evaluation (2 perps, 4 Black-76 options);
 * against a plain float64 implementation of the standard formula measured in the same run.
 * The ratio is the figure to compare across machines; DESIGN §8 targets ≥ 100,000/s for (1).
 */
import {
  type AccountBook,
  accountResult,
  accountRisk,
  DEFAULT_RISK_PARAMS,
  decimalEvaluation,
  evaluateAccount,
  type Market,
  marginTotals,
  parsePortfolio,
  type RiskParams,
  totalsStatus,
} from "@backing/core";
import { syntheticPortfolio } from "../test/helpers/synthetic-book.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

/** Runs `pass` (one evaluation of `perPass` accounts) repeatedly for SECONDS after one warm-up pass. */
function measurePasses(label: string, size: number, pass: () => void, perPass = size): number {
  pass();
  let done = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < deadline) {
    pass();
    done += perPass;
    now = process.hrtime.bigint();
  }
  const perSecond = done / (Number(now - start) / 1e9);
  console.log(`${label.padEnd(58)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} accounts/s`);
  return perSecond;
}

/** The standard formula in float64: the baseline the exact kernel is compared with. */
function floatKernel(params: RiskParams) {
  const tiers = new Map(
    [...params.collateral].map(([asset, list]) => [
      asset,
      list.map((t) => ({
        from: t.from.toNumber(),
        upTo: t.upTo?.toNumber() ?? Infinity,
        weight: t.weight.toNumber(),
      })),
    ]),
  );
  const brackets = new Map(
    [...params.brackets].map(([asset, list]) => [
      asset,
      list.map((b) => ({
        cap: b.notionalCap.toNumber(),
        imr: 1 / b.maxLeverage.toNumber(),
        mmr: b.mmr.toNumber(),
        cum: b.cum.toNumber(),
      })),
    ]),
  );
  const surcharge = 1 + params.liabilitySurcharge.toNumber();
  const warning = 1 + params.status.warningBuffer.toNumber();
  type Perp = { u: string; size: number; entry: number; funding: number };
  type FloatBook = { collateral: { asset: string; amount: number }[]; perps: Perp[] };
  const convert = (book: AccountBook): FloatBook => ({
    collateral: book.collateral.map((c) => ({ asset: c.asset, amount: c.amount.toNumber() })),
    perps: book.positions.flatMap((p) =>
      p.kind === "linear"
        ? [
            {
              u: p.underlying,
              size: p.size.toNumber(),
              entry: p.entryPrice.toNumber(),
              funding: p.funding.toNumber(),
            },
          ]
        : [],
    ),
  });
  const evaluate = (book: FloatBook, index: Map<string, number>, mark: Map<string, number>) => {
    let equity = 0;
    for (const { asset, amount } of book.collateral) {
      const value = amount * (index.get(asset) ?? 0);
      if (value < 0) equity += value * surcharge;
      else
        for (const t of tiers.get(asset) ?? [])
          if (value > t.from) equity += (Math.min(value, t.upTo) - t.from) * t.weight;
    }
    let im = 0;
    let mm = 0;
    for (const p of book.perps) {
      const m = mark.get(p.u) ?? 0;
      const notional = Math.abs(p.size) * m;
      equity += p.size * (m - p.entry) + p.funding;
      const list = brackets.get(p.u) ?? [];
      const b = list.find((x) => notional <= x.cap) ?? list[list.length - 1];
      if (!b) continue;
      im += notional * b.imr;
      mm += notional * b.mmr - b.cum;
    }
    return equity < mm ? 0 : equity < im ? 1 : equity < im * warning ? 2 : 3;
  };
  return { convert, evaluate };
}

/**
 * Markets that differ on every pass, so nothing price-dependent can be reused between passes.
 * Prices keep 2 decimals, like real marks (BTC ticks 0.1).
 */
function marketSequence(market: Market, count: number): Market[] {
  return Array.from({ length: count }, (_, i) => {
    const factor = 1 + (i - count / 2) * 0.0013;
    const quotes = new Map(
      [...market.quotes].map(([asset, q]) => [
        asset,
        { index: q.index.times(factor), mark: q.mark.times(factor) },
      ]),
    );
    return { ...market, quotes };
  });
}

const standard = parsePortfolio(syntheticPortfolio({ accounts: 20000, perps: 5 }), DEFAULT_RISK_PARAMS);
const pm = parsePortfolio(
  syntheticPortfolio({ accounts: 5000, perps: 2, options: 4, marginMode: "portfolio", seed: 7 }),
  DEFAULT_RISK_PARAMS,
);
const { market, params } = standard;

console.log(`node ${process.version}, ${SECONDS}s per measurement, one core`);
const markets = marketSequence(market, 64);
const floatMarkets = markets.map((m) => ({
  index: new Map([...m.quotes].map(([a, q]) => [a, q.index.toNumber()])),
  mark: new Map([...m.quotes].map(([a, q]) => [a, q.mark.toNumber()])),
}));
const float = floatKernel(params);
const floatBooks = standard.accounts.map(float.convert);
let pass = 0;
const exactRate = measurePasses(
  "exact standard: 3 collateral + 5 perps (equity, IM, MM, status)",
  standard.accounts.length,
  () => {
    const m = markets[pass++ % markets.length] as Market;
    for (const book of standard.accounts) {
      totalsStatus(marginTotals(book, m, params), params.status.warningBuffer);
    }
  },
);
const floatRate = measurePasses("float64 standard kernel (baseline)", floatBooks.length, () => {
  const m = floatMarkets[pass++ % floatMarkets.length] as (typeof floatMarkets)[number];
  for (const book of floatBooks) float.evaluate(book, m.index, m.mark);
});
const detailedRate = measurePasses(
  "exact standard, per-position detail (accountRisk)",
  standard.accounts.length,
  () => {
    const m = markets[pass++ % markets.length] as Market;
    for (const book of standard.accounts) accountRisk(book, m, params);
  },
);
const withLiquidation = measurePasses(
  "exact standard + liquidation prices (backing evaluate)",
  standard.accounts.length,
  () => {
    const m = markets[pass++ % markets.length] as Market;
    for (const book of standard.accounts) evaluateAccount(book, m, params);
  },
);
const printed = measurePasses("  … and its JSON document (accountResult)", standard.accounts.length, () => {
  const m = markets[pass++ % markets.length] as Market;
  for (const book of standard.accounts) accountResult(evaluateAccount(book, m, params), params);
});
const decimalLiquidation = measurePasses(
  "  … on the Decimal path (the explain path's figures)",
  standard.accounts.length,
  () => {
    const m = markets[pass++ % markets.length] as Market;
    for (const book of standard.accounts.slice(0, 2000)) decimalEvaluation(book, m, params);
  },
  2000,
);
const pmMarkets = marketSequence(pm.market, 16);
const pmRate = measurePasses("exact portfolio margin: 2 perps + 4 options", pm.accounts.length, () => {
  const m = pmMarkets[pass++ % pmMarkets.length] as Market;
  for (const book of pm.accounts) marginTotals(book, m, pm.params);
});
console.log("");
console.log(
  `exact standard / float64 baseline: ${(exactRate / floatRate).toFixed(4)} (1 : ${Math.round(floatRate / exactRate)})`,
);
console.log(`exact standard vs DESIGN §8 target of 100,000/s: ${(exactRate / 100000).toFixed(2)}×`);
console.log(`per-position detail / float64 baseline: ${(detailedRate / floatRate).toFixed(4)}`);
console.log(`with liquidation prices / float64 baseline: ${(withLiquidation / floatRate).toFixed(5)}`);
console.log(
  `with liquidation prices, fixed-point / Decimal path: ${(withLiquidation / decimalLiquidation).toFixed(2)}×; with its JSON: ${(printed / decimalLiquidation).toFixed(2)}×`,
);
console.log(
  `with liquidation prices vs the issue's target of 50,000/s: ${(withLiquidation / 50000).toFixed(2)}×`,
);
console.log(`portfolio margin / float64 baseline: ${(pmRate / floatRate).toFixed(5)}`);
