/** The sweep: the trigger index's safety net, every account recomputed a page at a time. */
import { type NotificationType, priceGuardParams, type RiskParams } from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import { expireCalls } from "./expire.ts";
import type { SweepMode, SweepTotals } from "./ports/index.ts";
import { noRecompute, recomputeAccounts } from "./recompute/index.ts";
import { evaluationPrices, snapshotOf, snapshotPrices, staleAssetsOf } from "./recompute/snapshot.ts";
import { crossedAccountIds } from "./tick.ts";
import { syncUnwatched } from "./unwatched.ts";

export interface SweepResult extends SweepTotals {
  expired: number;
  /** Assets whose latest price is older than maxPriceAgeSeconds: no call is made on them. */
  staleAssets: string[];
  /** Assets whose mark lies beyond maxMarkDeviation of the index: evaluated at the bound. */
  markGuardedAssets: string[];
  /** Accounts marked unwatched (not evaluable) when the sweep ended. */
  unwatched: number;
  /** The largest page; each segment holds at most two at once. */
  pageSize: number;
}

/** Segments a sweep reads in parallel (each holds at most two pages). */
export const SWEEP_SEGMENTS = 2;

/** Beyond this many no-band entries in the book (a fresh import), the sweep asks page by page. */
export const UNBANDED_SNAPSHOT_LIMIT = 100_000;

/** What a sweep (or one worker of a sharded sweep) reads once: the params, and the accounts with no band. */
export interface SweepContext {
  params: RiskParams;
  unbandedInBook: Set<string> | null;
}

export async function sweepContext(deps: EngineDeps): Promise<SweepContext> {
  const params = await currentParams(deps.store);
  const pricedAssets = [...(await deps.store.getPrices()).keys()];
  const unbandedInBook = await deps.store.allUnbandedAccountIds(pricedAssets, UNBANDED_SNAPSHOT_LIMIT);
  return { params, unbandedInBook };
}

export const noSweepTotals = (): SweepTotals => ({ accounts: 0, ...noRecompute() });

/** Adds `step` into `into` (sums, and the invalid accounts listed). */
export function addSweepTotals(into: SweepTotals, step: SweepTotals): SweepTotals {
  into.accounts += step.accounts;
  into.evaluated += step.evaluated;
  into.written += step.written;
  into.skippedStale += step.skippedStale;
  into.conflictsRetried += step.conflictsRetried;
  into.supersededByNewer += step.supersededByNewer;
  into.invalid.push(...step.invalid);
  for (const [type, n] of Object.entries(step.notifications))
    into.notifications[type as NotificationType] =
      (into.notifications[type as NotificationType] ?? 0) + (n ?? 0);
  return into;
}

/**
 * One segment of the book (`index` of `count`; together they cover it once), recomputed a page at a
 * time: the bands of the accounts whose state changed or that have none written (the others' still
 * hold: the prices are inside them, or a tick would have recomputed them). The next page (accounts
 * and their states) is read while this one is evaluated and written, so DynamoDB has a page to
 * serve meanwhile (two pages held at most). A state read early is safe: every state write is
 * conditional on its version. The latest prices are read with each page: a long sweep evaluates
 * every page at current prices.
 */
export async function sweepSegment(
  deps: EngineDeps,
  segment: { index: number; count: number },
  context: SweepContext,
  options: { pageSize?: number; onPage?: (accounts: number) => void } = {},
): Promise<SweepTotals> {
  const totals = noSweepTotals();
  const pages = deps.store.scanBook(options.pageSize ?? 500, segment)[Symbol.asyncIterator]();
  const prefetch = () => {
    const next = Promise.all([pages.next(), deps.store.getPrices(), deps.store.getFunding()]).then(
      ([read, prices, funding]) => (read.done ? null : { ...read.value, prices, funding }),
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
    const { accounts: page, states, prices, funding } = current;
    const accounts = new Map(page.map((a) => [a.id, a]));
    const unbanded = context.unbandedInBook
      ? new Set(page.filter((a) => context.unbandedInBook?.has(a.id)).map((a) => a.id))
      : await deps.store.unbandedAccountIds(page);
    const step = await recomputeAccounts([...accounts.keys()], deps, {
      bands: "changed",
      accounts,
      unbanded,
      params: context.params,
      states,
      prices,
      funding,
    });
    addSweepTotals(totals, { ...step, accounts: page.length });
    options.onPage?.(page.length);
  }
  return totals;
}

/**
 * The index sweep: the accounts the trigger index says the latest prices have left (each priced
 * asset's crossed bands, and the accounts with no band), recomputed as the tick that moved those
 * prices would have. It finds what a lost tick left behind (a tick that failed after its price was
 * stored, a recompute task parked in its DLQ) for the cost of a few index queries.
 */
export async function sweepIndex(deps: EngineDeps, params: RiskParams): Promise<SweepTotals> {
  const prices = await deps.store.getPrices();
  const ids = new Set<string>();
  for (const [asset, record] of prices) {
    if (!record.latest) continue;
    for (const id of await crossedAccountIds(deps.store, asset, record.latest)) ids.add(id);
  }
  const step = await recomputeAccounts([...ids], deps, { bands: true, prices, params });
  return { ...step, accounts: ids.size };
}

/**
 * What a sweep does once, after every account: expired call deadlines, the stale prices, and the
 * accounts it could not evaluate marked (and announced) as unwatched.
 */
export async function finishSweep(
  deps: EngineDeps,
  params: RiskParams,
  swept: { invalid: SweepTotals["invalid"]; mode: SweepMode },
): Promise<{ expired: number; staleAssets: string[]; markGuardedAssets: string[]; unwatched: number }> {
  const expired = await expireCalls(deps);
  const unwatched = await syncUnwatched(deps, swept.invalid, swept.mode);
  const guards = priceGuardParams(params);
  const snapshot = snapshotOf(await deps.store.getPrices());
  const staleAssets = [...staleAssetsOf(snapshot, deps.now(), guards.maxPriceAgeSeconds)].sort();
  const { guarded } = evaluationPrices(snapshotPrices(snapshot), params);
  return { expired, staleAssets, markGuardedAssets: guarded, unwatched };
}

/**
 * The safety net of the trigger index (DESIGN §3.7) in one process: every stored account, its
 * segments read in parallel (bounded memory at any book size), then expired call deadlines and
 * stale prices. The sharded sweep (sweep-shards.ts) runs the same segments on many workers.
 */
export async function sweepAccounts(
  deps: EngineDeps,
  options: { pageSize?: number; segments?: number; onProgress?: (accounts: number) => void } = {},
): Promise<SweepResult> {
  const pageSize = options.pageSize ?? 500;
  const context = await sweepContext(deps);
  const totals = noSweepTotals();
  const count = options.segments ?? SWEEP_SEGMENTS;
  let swept = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, index) =>
      addSweepTotals(
        totals,
        await sweepSegment(deps, { index, count }, context, {
          pageSize,
          onPage: (accounts) => {
            swept += accounts;
            options.onProgress?.(swept);
          },
        }),
      ),
    ),
  );
  return {
    ...totals,
    ...(await finishSweep(deps, context.params, { invalid: totals.invalid, mode: "full" })),
    pageSize,
  };
}
