/** The price snapshot a recompute evaluates at. */
import { createHash } from "node:crypto";
import { boundedMark, Decimal, maxMarkDeviationOf, type RiskParams } from "@backing/core";
import type {
  FundingRecord,
  FundingRepository,
  PriceRecord,
  PriceRepository,
  PriceSnapshot,
} from "../ports/index.ts";

/** The store's latest prices and cumulative funding as one snapshot (two reads, together). */
export async function latestSnapshot(store: PriceRepository & FundingRepository): Promise<PriceSnapshot> {
  const [records, funding] = await Promise.all([store.getPrices(), store.getFunding()]);
  return snapshotOf(records, funding);
}

/**
 * The latest accepted price of every asset, and the cumulative funding of every venue and asset,
 * named by a hash of its contents (a funding print makes a new snapshot, as a price move does).
 */
export function snapshotOf(
  records: Map<string, PriceRecord>,
  fundingRecords: readonly FundingRecord[] = [],
): PriceSnapshot {
  const prices: PriceSnapshot["prices"] = {};
  for (const [asset, record] of [...records].sort(([a], [b]) => a.localeCompare(b))) {
    if (record.latest)
      prices[asset] = {
        index: record.latest.index,
        mark: record.latest.mark,
        timestampMs: record.latest.timestampMs,
        ...(record.latest.volatility !== undefined ? { volatility: record.latest.volatility } : {}),
      };
  }
  const funding: Record<string, Record<string, string>> = {};
  const order = (f: FundingRecord) => `${f.venue}#${f.asset}`;
  for (const f of [...fundingRecords].sort((a, b) => (order(a) < order(b) ? -1 : 1)))
    funding[f.venue] = { ...funding[f.venue], [f.asset]: f.cumulative };
  const hashed = fundingRecords.length > 0 ? { prices, funding } : prices;
  const id = `snap_${createHash("sha256").update(JSON.stringify(hashed)).digest("hex").slice(0, 24)}`;
  return fundingRecords.length > 0 ? { id, prices, funding } : { id, prices };
}

/** A snapshot's prices as a portfolio document gives them (no timestamps). */
export const snapshotPrices = (snapshot: PriceSnapshot) =>
  Object.fromEntries(Object.entries(snapshot.prices).map(([a, p]) => [a, { index: p.index, mark: p.mark }]));

/**
 * The prices to evaluate at: each mark within its params bound of its index (DESIGN §3.10), and the
 * assets whose mark was held at the bound (reported as stale assets are). The snapshot and the
 * evidence keep the raw marks; every evaluation of them (recompute, sweep, reports, risk, explain)
 * bounds them the same way.
 */
export function evaluationPrices(
  prices: Record<string, { index: string; mark: string }>,
  params: RiskParams,
): { prices: Record<string, { index: string; mark: string }>; guarded: string[] } {
  const maxDeviation = maxMarkDeviationOf(params);
  const guarded: string[] = [];
  const bounded = Object.fromEntries(
    Object.entries(prices).map(([asset, p]) => {
      const within = boundedMark(new Decimal(p.index), new Decimal(p.mark), maxDeviation);
      if (!within.guarded) return [asset, p];
      guarded.push(asset);
      return [asset, { index: p.index, mark: within.mark.toFixed() }];
    }),
  );
  return { prices: bounded, guarded: guarded.sort() };
}

/** The implied volatilities to evaluate at: the configured defaults, overridden by the latest given with prices. */
export function volatilityOf(
  snapshot: PriceSnapshot,
  defaults: Record<string, string>,
): Record<string, string> {
  const given = Object.entries(snapshot.prices).flatMap(([asset, p]) =>
    p.volatility !== undefined ? [[asset, p.volatility] as const] : [],
  );
  return given.length === 0 ? defaults : { ...defaults, ...Object.fromEntries(given) };
}

/** Assets missing from the snapshot are caught as unpriced; these are the ones priced too long ago. */
export function staleAssetsOf(snapshot: PriceSnapshot, nowMs: number, maxAgeSeconds: number): Set<string> {
  return new Set(
    Object.entries(snapshot.prices)
      .filter(([, price]) => nowMs - price.timestampMs > maxAgeSeconds * 1000)
      .map(([asset]) => asset),
  );
}
