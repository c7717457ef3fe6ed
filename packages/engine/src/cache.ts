import type { Account, RiskParamsDocument } from "@backing/contracts";
import { Decimal } from "@backing/core";
import { VersionConflictError } from "./errors.ts";
import {
  type EngineStore,
  exposureAssets,
  type PriceRecord,
  type PriceUpdateWrite,
  type StateWrite,
  type StoredAccount,
  type StoredBand,
  type StoredRiskState,
} from "./ports/index.ts";

/**
 * A band held in memory: its edges as stored, and as doubles rounded toward the band's inside (low
 * up, high down) for the tick's scan. No band: edges that every price crosses.
 */
interface CachedBand {
  low: string | null;
  high: string | null;
  lowAtLeast: number;
  highAtMost: number;
}

const NO_BAND: CachedBand = {
  low: null,
  high: null,
  lowAtLeast: Number.POSITIVE_INFINITY,
  highAtMost: Number.NEGATIVE_INFINITY,
};

const cachedBand = (low: string | null, high: string | null): CachedBand =>
  low === null || high === null
    ? NO_BAND
    : { low, high, lowAtLeast: doubleAtLeast(low), highAtMost: doubleAtMost(high) };

/** The nearest double to a decimal string that is not below it. */
export function doubleAtLeast(value: string): number {
  const nearest = Number(value);
  return exactly(nearest).lt(value) ? nextDouble(nearest, 1) : nearest;
}

/** The nearest double to a decimal string that is not above it. */
export function doubleAtMost(value: string): number {
  const nearest = Number(value);
  return exactly(nearest).gt(value) ? nextDouble(nearest, -1) : nearest;
}

/**
 * A double's own value (`new Decimal(0.1)` would read its shortest form, "0.1"): 100 significant
 * digits hold every double of the price range exactly.
 */
const exactly = (double: number) =>
  Number.isFinite(double) ? new Decimal(double.toPrecision(100)) : new Decimal(double);

function nextDouble(value: number, direction: 1 | -1): number {
  if (!Number.isFinite(value)) return value;
  if (value === 0) return direction * Number.MIN_VALUE;
  const bits = new BigInt64Array(new Float64Array([value]).buffer);
  // For a positive double the next one up has the next bit pattern; for a negative, the previous.
  bits[0] = (bits[0] as bigint) + (value > 0 === (direction === 1) ? 1n : -1n);
  return new Float64Array(bits.buffer)[0] as number;
}

/**
 * For a long-running local process: remembers books, risk states and prices between ticks instead
 * of reading them again. Safe because every state and price write stays conditional on the version
 * read: a stale cached copy only costs a conflict, which drops it so the retry reads the store.
 * Books, the exposure index and the params change only through this process (`putAccounts`,
 * `putParams`), which refreshes them. Lambda handlers use the store directly (they are stateless).
 */
export function cachedStore<S extends EngineStore>(store: S, options: { ownsBook?: boolean } = {}): S {
  // With the whole book and its states put through this process (`ownsBook`: a book it seeded
  // into a table of its own, as the demo does), the trigger index lives in memory only: a tick's
  // range query is a scan of the asset's bands here. The table keeps the "no band" entries
  // putAccounts wrote, which make any other reader of it (or this one after a restart) recompute
  // on every move: slower, never wrong.
  const bands = new Map<string, Map<string, CachedBand>>();
  const bandsOf = (asset: string) => {
    let map = bands.get(asset);
    if (!map) {
      map = new Map();
      bands.set(asset, map);
    }
    return map;
  };
  const accounts = new Map<string, StoredAccount>();
  const exposures = new Map<string, string[]>();
  let params: Promise<RiskParamsDocument | null> | undefined;
  /**
   * The latest price records, as read and then written through this process: an ingest's write
   * stays conditional on the record's revision, so a stale copy only costs a conflict, which drops
   * it and makes the retry read the store.
   */
  let prices: Map<string, PriceRecord> | null = null;
  const states = new Map<string, StoredRiskState>();
  /**
   * With the book owned, every state is written through this process: the deadline of each open
   * episode not yet expired, so the expiry job asks the store only when one is due.
   */
  const openDeadlines = new Map<string, number>();
  const noteState = (state: StoredRiskState) => {
    if (state.episode && !state.episode.expiredNotified)
      openDeadlines.set(state.accountId, state.episode.deadlineMs);
    else openDeadlines.delete(state.accountId);
  };
  /** Accounts known to have no stored state (never written: HEALTHY). */
  const stateless = new Set<string>();
  const missing = <T>(ids: readonly string[], cache: Map<string, T>) => ids.filter((id) => !cache.has(id));
  return Object.assign(Object.create(store) as S, {
    async putAccounts(list: Account[], keepExposure?: ReadonlyMap<string, readonly string[]>) {
      // Owning the book, bands live here and the table's exposure entries all still say "no
      // band": an account it already holds needs entries only for assets it did not have.
      const kept = new Map(keepExposure);
      if (options.ownsBook)
        for (const account of list) {
          const before = accounts.get(account.id)?.account;
          if (before) kept.set(account.id, exposureAssets(before));
        }
      await store.putAccounts(list, kept);
      let newExposure = false;
      for (const account of list) {
        const before = new Set(kept.get(account.id) ?? []);
        accounts.set(account.id, { account, version: 1 });
        for (const asset of exposureAssets(account)) {
          bandsOf(asset).set(account.id, NO_BAND);
          if (!before.has(asset)) newExposure = true;
        }
      }
      if (newExposure) exposures.clear();
    },
    async dropExposure(accountId: string, assets: readonly string[]) {
      await store.dropExposure(accountId, assets);
      for (const asset of assets) bands.get(asset)?.delete(accountId);
      exposures.clear();
    },
    async putBands(list: readonly StoredBand[]) {
      if (!options.ownsBook) return store.putBands(list);
      for (const band of list) bandsOf(band.asset).set(band.accountId, cachedBand(band.low, band.high));
    },
    async getBands(list: readonly { accountId: string; assets: readonly string[] }[]) {
      if (!options.ownsBook) return store.getBands(list);
      const found = new Map<string, StoredBand[]>();
      for (const { accountId, assets } of list)
        for (const asset of assets) {
          const band = bands.get(asset)?.get(accountId);
          if (!band) continue;
          const stored = {
            accountId,
            asset,
            low: band.low,
            high: band.high,
          };
          found.set(accountId, [...(found.get(accountId) ?? []), stored]);
        }
      return found;
    },
    async unbandedAccountIds(list: readonly Account[]) {
      if (!options.ownsBook) return store.unbandedAccountIds(list);
      const ids = new Set<string>();
      for (const account of list)
        for (const [, map] of bands) if (map.get(account.id)?.low === null) ids.add(account.id);
      return ids;
    },
    async allUnbandedAccountIds(assets: readonly string[], limit: number) {
      if (!options.ownsBook) return store.allUnbandedAccountIds(assets, limit);
      const ids = new Set<string>();
      for (const asset of assets) for (const [id, band] of bandsOf(asset)) if (band.low === null) ids.add(id);
      return ids;
    },
    async triggeredAccountIds(asset: string, lowest: string, highest: string) {
      if (!options.ownsBook) return store.triggeredAccountIds(asset, lowest, highest);
      // Compared as doubles, every edge rounded toward its band's inside and the prices to nearest:
      // rounding is monotonic, so a price below an edge never compares above its rounded edge (an
      // equal pair is taken as crossed: at worst one account read too many, never one missed).
      const low = Number(lowest);
      const high = Number(highest);
      const ids: string[] = [];
      for (const [id, band] of bandsOf(asset))
        if (low <= band.lowAtLeast || high >= band.highAtMost) ids.push(id);
      return ids;
    },
    async exposedAccountIds(asset: string) {
      let ids = exposures.get(asset);
      if (!ids) {
        ids = await store.exposedAccountIds(asset);
        exposures.set(asset, ids);
      }
      return ids;
    },
    async getAccounts(ids: readonly string[]) {
      const fetched = await store.getAccounts(missing(ids, accounts));
      for (const [id, account] of fetched) accounts.set(id, account);
      return new Map(
        ids.flatMap((id) => (accounts.has(id) ? [[id, accounts.get(id) as StoredAccount] as const] : [])),
      );
    },
    async getRiskStates(ids: readonly string[]) {
      const unknown = missing(ids, states).filter((id) => !stateless.has(id));
      const fetched = await store.getRiskStates(unknown);
      for (const id of unknown) {
        const state = fetched.get(id);
        if (state) {
          states.set(id, state);
          noteState(state);
        } else stateless.add(id);
      }
      return new Map(
        ids.flatMap((id) => (states.has(id) ? [[id, states.get(id) as StoredRiskState] as const] : [])),
      );
    },
    async dueEpisodes(nowMs: number) {
      if (options.ownsBook && ![...openDeadlines.values()].some((deadline) => deadline <= nowMs)) return [];
      return store.dueEpisodes(nowMs);
    },
    getParams() {
      params ??= store.getParams();
      return params;
    },
    async getPrices() {
      prices ??= await store.getPrices();
      return new Map(prices);
    },
    async applyPriceUpdates(updates: readonly PriceUpdateWrite[]) {
      const results = await store.applyPriceUpdates(updates);
      updates.forEach(({ update, action, previous }, i) => {
        if (results[i] === "applied" && prices)
          prices.set(
            update.asset,
            action === "accept" ? { latest: update, held: null } : { latest: previous.latest, held: update },
          );
        else prices = null;
      });
      return results;
    },
    async putParams(document: RiskParamsDocument) {
      await store.putParams(document);
      params = Promise.resolve(document);
    },
    async writeState(write: StateWrite) {
      try {
        await store.writeState(write);
        states.set(write.state.accountId, write.state);
        noteState(write.state);
        stateless.delete(write.state.accountId);
      } catch (error) {
        if (error instanceof VersionConflictError) {
          states.delete(write.state.accountId);
          stateless.delete(write.state.accountId);
        }
        throw error;
      }
    },
    async writeStates(writes: readonly StateWrite[]) {
      const conflicted = await store.writeStates(writes);
      for (const { state } of writes) {
        if (conflicted.has(state.accountId)) states.delete(state.accountId);
        else {
          states.set(state.accountId, state);
          noteState(state);
        }
        stateless.delete(state.accountId);
      }
      return conflicted;
    },
  });
}
