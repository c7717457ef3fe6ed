/** Recompute: load the accounts, evaluate them (pure), write the changed states with their notifications, then the bands. */
import type { Account } from "@backing/contracts";
import {
  type AccountBook,
  type NotificationType,
  priceGuardParams,
  type RiskParams,
  sensitiveAssets,
} from "@backing/core";
import { forEachConcurrently } from "../concurrency.ts";
import { currentParams } from "../current-params.ts";
import type { EngineDeps } from "../deps.ts";
import { VersionConflictError } from "../errors.ts";
import {
  exposureAssets,
  type FundingRecord,
  type PriceRecord,
  type StateWrite,
  type StoredBand,
  type StoredRiskState,
} from "../ports/index.ts";
import { type Evaluation, newBands } from "./band-diff.ts";
import { type EvaluationContext, evaluateAccount } from "./evaluate.ts";
import { parseBooks } from "./load.ts";
import { snapshotOf, staleAssetsOf, volatilityOf } from "./snapshot.ts";

/** Whether a funding print of this venue and asset moves the account's equity (a perp that settles against F). */
const settlesOn = (account: Account, print: { venue: string; asset: string }) =>
  account.venue === print.venue &&
  account.positions.some(
    (p) => p.type === "perp" && p.underlying === print.asset && p.fundingIndex !== undefined,
  );

export interface RecomputeResult {
  evaluated: number;
  /** Accounts whose state was written (a status or episode change, or a first evaluation). */
  written: number;
  notifications: Partial<Record<NotificationType, number>>;
  /** Accounts left as they were because a price they depend on is stale (no call on stale prices). */
  skippedStale: number;
  /** Accounts that could not be evaluated, and why (`path: problem; …`). */
  invalid: { accountId: string; venue: string; message: string }[];
  conflictsRetried: number;
  /** Accounts left as stored because a concurrent recompute had evaluated them at newer prices. */
  supersededByNewer: number;
}

/** A recompute that evaluated nothing: the start of every tally. */
export const noRecompute = (): RecomputeResult => ({
  evaluated: 0,
  written: 0,
  notifications: {},
  skippedStale: 0,
  invalid: [],
  conflictsRetried: 0,
  supersededByNewer: 0,
});

/**
 * Recompute the given accounts against the latest accepted prices and the current params: evaluate
 * with core, apply the status machine (hysteresis, episodes), and write the state only when the
 * status or episode changed (an account never written counts as HEALTHY), with its notifications in
 * the same transaction. A lost race re-reads the account's state and redoes it, so two workers never lose
 * an update or emit a transition twice.
 */
export async function recomputeAccounts(
  accountIds: readonly string[],
  deps: EngineDeps,
  options: {
    /**
     * Rewrite the trigger bands of every account evaluated (true), or only of those whose state
     * changed and of those listed in `unbanded` ("changed").
     */
    bands?: boolean | "changed";
    unbanded?: ReadonlySet<string>;
    /** Already read (the sweep's pages): skips the read by id. */
    accounts?: Map<string, Account>;
    /** The latest prices, when the caller has just read them (a tick). */
    prices?: Map<string, PriceRecord>;
    /** The cumulative funding, when the caller has just read it. */
    funding?: readonly FundingRecord[];
    /**
     * A funding print's recompute: only the accounts of this venue holding a perp on this asset
     * that settles against F (a fundingIndex); the print changes no one else's equity.
     */
    settlingOn?: { venue: string; asset: string };
    /** The params, when the caller has read them (a sweep reads them once). */
    params?: RiskParams;
    /** The accounts' stored states, when the caller has read them (the sweep, ahead of time). */
    states?: Map<string, StoredRiskState>;
  } = {},
): Promise<RecomputeResult> {
  // By account: a conflict retry recomputes an account, and its last evaluation is the one whose
  // bands are written (after all states, with the stored bands read once for all of them).
  const banding = new Map<string, { book: AccountBook; held: Evaluation | null }>();
  const unbandable = new Map<string, StoredBand[]>();
  const noBand = (account: Account) => {
    unbandable.set(
      account.id,
      exposureAssets(account).map((asset) => ({ accountId: account.id, asset, low: null, high: null })),
    );
  };
  const nowMs = deps.now();
  const params = options.params ?? (await currentParams(deps.store));
  const guards = priceGuardParams(params);
  const settling = options.settlingOn;
  // Prices, funding, accounts and states are read together: one round trip's time. A funding
  // print's recompute reads the states of the accounts that settle on it only, once they are known.
  const [records, funding, stored, statesRead]: [
    Map<string, PriceRecord>,
    readonly FundingRecord[],
    Map<string, Account>,
    Map<string, StoredRiskState> | null,
  ] = await Promise.all([
    options.prices ?? deps.store.getPrices(),
    options.funding ?? deps.store.getFunding(),
    options.accounts ??
      deps.store.getAccounts(accountIds).then((read) => new Map([...read].map(([id, s]) => [id, s.account]))),
    options.states ?? (settling ? null : deps.store.getRiskStates(accountIds)),
  ]);
  const snapshot = snapshotOf(records, funding);
  // Later prices or a later funding print make a later snapshot: an older one never overwrites it.
  const snapshotOrder =
    Object.values(snapshot.prices).reduce((sum, p) => sum + p.timestampMs, 0) +
    funding.reduce((sum, f) => sum + f.fundingTimeMs, 0);
  const considered = settling
    ? [...stored.values()].filter((account) => settlesOn(account, settling))
    : [...stored.values()];
  const states = statesRead ?? (await deps.store.getRiskStates(considered.map((a) => a.id)));
  const { market, books, invalid } = parseBooks(considered, snapshot, nowMs, params, deps.volatility ?? {});
  const result: RecomputeResult = { ...noRecompute(), invalid };

  const staleAssets = staleAssetsOf(snapshot, nowMs, guards.maxPriceAgeSeconds);
  // Accounts that cannot be evaluated keep no band: every tick on their assets looks at them again.
  if (options.bands)
    for (const { accountId } of invalid) {
      const account = stored.get(accountId);
      if (account) noBand(account);
    }
  const bandsOf = (book: AccountBook, held: Evaluation | null) => {
    if (options.bands) banding.set(book.id, { book, held });
  };

  // First every account is evaluated (no I/O); the writes of those whose state changes go out
  // together after, and meanwhile the bands of the others (settled, nothing to write) are read and
  // written. An account whose write loses a race is re-read and redone on its own.
  const context: EvaluationContext = {
    market,
    params,
    snapshot,
    snapshotOrder,
    staleAssets,
    nowMs,
    volatility: volatilityOf(snapshot, deps.volatility ?? {}),
  };
  /** The write an account's evaluation calls for, or null when its stored state stands. */
  const evaluate = (book: AccountBook): StateWrite | null => {
    const decision = evaluateAccount(
      book,
      stored.get(book.id) as Account,
      states.get(book.id) ?? null,
      context,
    );
    if (decision.kind === "superseded") {
      result.supersededByNewer++;
      // Its bands are the newer evaluation's to write, not ours.
      banding.delete(book.id);
      return null;
    }
    if (decision.kind === "held-stale") {
      result.skippedStale++;
      bandsOf(book, null);
      return null;
    }
    // "changed": an account whose state stands keeps its bands (they still hold: the prices are
    // inside them, or a tick would have brought it here); the sweep writes only what changed.
    if (options.bands === true || decision.write !== null || options.unbanded?.has(book.id))
      bandsOf(book, decision.evaluation);
    return decision.write;
  };
  const written = (write: StateWrite) => {
    result.written++;
    for (const { type } of write.notifications) {
      const margin = type as NotificationType;
      result.notifications[margin] = (result.notifications[margin] ?? 0) + 1;
    }
  };
  /** The write path of one account that lost a race: re-read its state, re-evaluate, write alone. */
  const retryAlone = async (book: AccountBook) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      result.conflictsRetried++;
      const fresh = (await deps.store.getRiskStates([book.id])).get(book.id);
      if (fresh) states.set(book.id, fresh);
      else states.delete(book.id);
      const write = evaluate(book);
      if (write === null) return;
      try {
        await deps.store.writeState(write);
        written(write);
        return;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
    // Lost every race: its state is someone else's, and so are its bands.
    banding.delete(book.id);
  };

  const writes = new Map<string, { book: AccountBook; write: StateWrite }>();
  for (const book of books) {
    result.evaluated++;
    const write = evaluate(book);
    if (write !== null) writes.set(book.id, { book, write });
  }
  const bandsOfSettled = [...banding.values()].filter(({ book }) => !writes.has(book.id));
  const storedBands =
    banding.size > 0
      ? deps.store.getBands(
          [...banding.values()].map(({ book }) => ({
            accountId: book.id,
            // The crossed assets' bands too: one a tick found as "no band" and still none needs no
            // rewrite (an indexed write costs what about fourteen of these reads do).
            assets: sensitiveAssets(book),
          })),
        )
      : Promise.resolve(new Map<string, StoredBand[]>());
  const settled = storedBands.then(async (before) => {
    const bands = [...[...unbandable.values()].flat(), ...newBands(bandsOfSettled, before, market, params)];
    if (bands.length > 0) await deps.store.putBands(bands);
  });
  // Observed by Promise.all below; if a state write throws first, this must not go unhandled.
  settled.catch(() => {});
  const writeAll = async () => {
    if (writes.size === 0) return;
    // The snapshot beside the states that name it: nothing reads it back to evaluate (each state
    // and notification carries its prices in its evidence), so it need not be written first.
    const [conflicted] = await Promise.all([
      deps.store.writeStates([...writes.values()].map(({ write }) => write)),
      deps.store.putSnapshot(snapshot),
    ]);
    const lost: AccountBook[] = [];
    for (const [id, { book, write }] of writes) {
      if (conflicted.has(id)) lost.push(book);
      else written(write);
    }
    await forEachConcurrently(lost, RETRY_CONCURRENCY, retryAlone);
  };
  await Promise.all([writeAll(), settled]);
  // The written accounts' bands come from their final evaluation (a conflict re-evaluates).
  const bandsOfWritten = [...banding.values()].filter(({ book }) => writes.has(book.id));
  const bands = newBands(bandsOfWritten, await storedBands, market, params);
  if (bands.length > 0) await deps.store.putBands(bands);
  return result;
}

/** Accounts retried alone at once after losing a race in a grouped write. */
const RETRY_CONCURRENCY = 16;

export { type Decision, type EvaluationContext, evaluateAccount } from "./evaluate.ts";
export { parseBooks } from "./load.ts";
export { latestSnapshot } from "./snapshot.ts";
