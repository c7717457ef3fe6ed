/** The sweep: the trigger index's safety net, every account recomputed a page at a time. */
import { type NotificationType, priceGuardParams } from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import { expireCalls } from "./expire.ts";
import { noRecompute, type RecomputeResult, recomputeAccounts } from "./recompute/index.ts";
import { snapshotOf, staleAssetsOf } from "./recompute/snapshot.ts";

export interface SweepResult extends RecomputeResult {
  accounts: number;
  expired: number;
  /** Assets whose latest price is older than maxPriceAgeSeconds: no call is made on them. */
  staleAssets: string[];
  /** The largest page; each segment holds at most two at once. */
  pageSize: number;
}

/** Segments a sweep reads in parallel (each holds at most two pages). */
export const SWEEP_SEGMENTS = 2;

/** Beyond this many no-band entries in the book (a fresh import), the sweep asks page by page. */
export const UNBANDED_SNAPSHOT_LIMIT = 100_000;

/**
 * The safety net of the trigger index (DESIGN §3.7; cron every minute in AWS): every stored account,
 * a page at a time (bounded memory at any book size), recomputed; the bands of those whose state
 * changed or that have none written (the others' still hold: the prices are inside them, or a tick
 * would have recomputed them); then expired call deadlines; stale prices reported.
 * A page's accounts are not read twice.
 */
export async function sweepAccounts(
  deps: EngineDeps,
  options: { pageSize?: number; segments?: number; onProgress?: (accounts: number) => void } = {},
): Promise<SweepResult> {
  const pageSize = options.pageSize ?? 500;
  const result: SweepResult = {
    accounts: 0,
    ...noRecompute(),
    expired: 0,
    staleAssets: [],
    pageSize,
  };
  // Read once for the whole sweep: the params, and the accounts with no band written.
  const params = await currentParams(deps.store);
  const pricedAssets = [...(await deps.store.getPrices()).keys()];
  const unbandedInBook = await deps.store.allUnbandedAccountIds(pricedAssets, UNBANDED_SNAPSHOT_LIMIT);
  // Each segment (a share of the shards) streams its pages on its own, so DynamoDB has a page to
  // serve while another is evaluated. In a segment the next page (accounts and their states) is read
  // while this one is evaluated and written (two pages held at most). A state read early is safe:
  // every state write is conditional on its version.
  const sweepSegment = async (index: number, count: number) => {
    const pages = deps.store.scanBook(pageSize, { index, count })[Symbol.asyncIterator]();
    const prefetch = () => {
      // The latest prices are read with each page: a long sweep evaluates every page at current prices.
      const next = Promise.all([pages.next(), deps.store.getPrices()]).then(([read, prices]) =>
        read.done ? null : { ...read.value, prices },
      );
      // Observed by the await below; if this page's work throws first, the read must not go unhandled.
      next.catch(() => {});
      return next;
    };
    let upcoming = prefetch();
    for (;;) {
      const current = await upcoming;
      if (!current) break;
      upcoming = prefetch();
      const { accounts: page, states, prices } = current;
      const accounts = new Map(page.map((a) => [a.id, a]));
      const unbanded = unbandedInBook
        ? new Set(page.filter((a) => unbandedInBook.has(a.id)).map((a) => a.id))
        : await deps.store.unbandedAccountIds(page);
      const step = await recomputeAccounts([...accounts.keys()], deps, {
        bands: "changed",
        accounts,
        unbanded,
        params,
        states,
        prices,
      });
      result.accounts += page.length;
      result.evaluated += step.evaluated;
      result.written += step.written;
      result.skippedStale += step.skippedStale;
      result.conflictsRetried += step.conflictsRetried;
      result.supersededByNewer += step.supersededByNewer;
      result.invalid.push(...step.invalid);
      for (const [type, n] of Object.entries(step.notifications))
        result.notifications[type as NotificationType] =
          (result.notifications[type as NotificationType] ?? 0) + n;
      options.onProgress?.(result.accounts);
    }
  };
  const segments = options.segments ?? SWEEP_SEGMENTS;
  await Promise.all(Array.from({ length: segments }, (_, index) => sweepSegment(index, segments)));
  result.expired = await expireCalls(deps);
  const guards = priceGuardParams(params);
  result.staleAssets = [
    ...staleAssetsOf(snapshotOf(await deps.store.getPrices()), deps.now(), guards.maxPriceAgeSeconds),
  ].sort();
  return result;
}
