import { createHash } from "node:crypto";
import {
  type Account,
  issuesFromZod,
  type MarginNotificationPayload,
  type PriceEvent,
  PriceEventBatch,
  type RiskParamsDocument,
} from "@backing/contracts";
import {
  type AccountBook,
  type AccountStatus,
  buildRiskParams,
  callAmount,
  DEFAULT_RISK_PARAMS,
  Decimal,
  expire,
  guardPrice,
  type MarginTotals,
  type Market,
  marginTotals,
  type NotificationType,
  nextStatus,
  type PortfolioInputError,
  type PriceBand,
  type PriceUpdate,
  parsePortfolio,
  priceGuardParams,
  type RiskParams,
  requirementString,
  type StatusState,
  sensitiveAssets,
  transition,
  triggerBands,
  valueString,
} from "@backing/core";
import { forEachConcurrently } from "./concurrency.ts";
import { PriceEventInputError, VersionConflictError } from "./errors.ts";
import {
  type EngineStore,
  exposureAssets,
  type NotificationRecord,
  type PriceRecord,
  type PriceSnapshot,
  type PriceUpdateWrite,
  type StateWrite,
  type StoredBand,
  type StoredPrice,
  type StoredRiskState,
} from "./ports/index.ts";

export interface EngineDeps {
  store: EngineStore;
  /** Injected clock (ms since epoch): the replay passes event time. */
  now: () => number;
  /**
   * Implied volatility per underlying for marking options without a markPrice (Black-76). Price
   * events carry no volatility, so it is configuration until a volatility feed exists.
   */
  volatility?: Record<string, string>;
}

export type IngestOutcome = "accepted" | "confirmed-jump" | "held" | "stale" | "out-of-order" | "duplicate";

export interface IngestResult {
  outcomes: { eventId: string; asset: string; outcome: IngestOutcome }[];
  /** Assets whose latest price moved: their exposed accounts need a recompute. */
  movedAssets: Set<string>;
  /** The price records as read and then written by this ingest: what its tick evaluates at. */
  prices: Map<string, PriceRecord>;
}

const toUpdate = (price: StoredPrice): PriceUpdate => ({
  eventId: price.eventId,
  asset: price.asset,
  index: new Decimal(price.index),
  mark: new Decimal(price.mark),
  timestampMs: price.timestampMs,
  sequence: price.sequence,
  source: price.source,
});

const paramsCache = new Map<string, RiskParams>();

export async function currentParams(store: EngineStore): Promise<RiskParams> {
  const document: RiskParamsDocument = (await store.getParams()) ?? DEFAULT_RISK_PARAMS;
  const key = JSON.stringify(document);
  let params = paramsCache.get(key);
  if (!params) {
    params = buildRiskParams(document);
    paramsCache.set(key, params);
  }
  return params;
}

/**
 * Ingest price events (one or a batch): validate, then per event apply the price guards of
 * DESIGN §3.6 against the stored record of its asset. Idempotent on eventId; rejected events write
 * nothing. A conditional write that loses a race with another ingest re-reads and retries.
 */
export async function ingestPriceEvents(input: unknown, deps: EngineDeps): Promise<IngestResult> {
  const parsed = PriceEventBatch.safeParse(input);
  if (!parsed.success) throw new PriceEventInputError(issuesFromZod(parsed.error));
  const events: PriceEvent[] = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  const guards = priceGuardParams(await currentParams(deps.store));
  const records = await deps.store.getPrices();
  const ingested: IngestResult = { outcomes: [], movedAssets: new Set(), prices: records };
  const outcomes = new Map<PriceEvent, IngestResult["outcomes"][number]>();
  const settle = (event: PriceEvent, outcome: IngestOutcome) =>
    outcomes.set(event, { eventId: event.eventId, asset: event.asset, outcome });
  // Events of one asset are applied in order; different assets are independent: each round
  // writes the next event of every asset together.
  const queues = new Map<string, PriceEvent[]>();
  for (const event of events) queues.set(event.asset, [...(queues.get(event.asset) ?? []), event]);
  const conflicts = new Map<PriceEvent, number>();
  for (;;) {
    const round: { event: PriceEvent; write: PriceUpdateWrite; verdict: "accept" | "hold"; jump: boolean }[] =
      [];
    for (const queue of queues.values()) {
      // Events decided without a write (duplicates, rejected ones) are settled on the spot.
      for (let event = queue[0]; event; event = queue[0]) {
        const update: StoredPrice = {
          asset: event.asset,
          index: event.index,
          mark: event.mark ?? event.index,
          timestampMs: Date.parse(event.timestamp),
          sequence: event.sequence ?? null,
          source: event.source,
          eventId: event.eventId,
        };
        const record: PriceRecord = records.get(event.asset) ?? { latest: null, held: null };
        if (record.latest?.eventId === update.eventId || record.held?.eventId === update.eventId) {
          settle(event, "duplicate");
          queue.shift();
          continue;
        }
        const verdict = guardPrice(
          toUpdate(update),
          record.latest && toUpdate(record.latest),
          record.held && toUpdate(record.held),
          deps.now(),
          guards,
        );
        if (verdict.kind === "reject") {
          settle(event, verdict.reason);
          queue.shift();
          continue;
        }
        round.push({
          event,
          write: { update, action: verdict.kind, previous: record },
          verdict: verdict.kind,
          jump: verdict.kind === "accept" && verdict.reason === "confirmed-jump",
        });
        break;
      }
    }
    if (round.length === 0) break;
    const written = await deps.store.applyPriceUpdates(round.map(({ write }) => write));
    const conflicted: string[] = [];
    for (const [i, { event, write, verdict, jump }] of round.entries()) {
      const result = written[i];
      const tries = conflicts.get(event) ?? 0;
      // Another ingest moved the record: read it again and decide this event anew.
      if (result === "conflict" && tries < 5) {
        conflicts.set(event, tries + 1);
        conflicted.push(event.asset);
        continue;
      }
      queues.get(event.asset)?.shift();
      if (result !== "applied") {
        settle(event, "duplicate");
        continue;
      }
      settle(event, verdict === "hold" ? "held" : jump ? "confirmed-jump" : "accepted");
      const { update, previous } = write;
      records.set(
        event.asset,
        verdict === "hold" ? { ...previous, held: update } : { latest: update, held: null },
      );
      // Only a changed price can change a status; an unchanged one only refreshes its age.
      const moved = previous.latest?.mark !== update.mark || previous.latest?.index !== update.index;
      if (verdict === "accept" && moved) ingested.movedAssets.add(event.asset);
    }
    if (conflicted.length > 0) {
      const fresh = await deps.store.getPrices();
      for (const asset of conflicted) {
        const record = fresh.get(asset);
        if (record) records.set(asset, record);
        else records.delete(asset);
      }
    }
  }
  ingested.outcomes = events.map((event) => outcomes.get(event) as IngestResult["outcomes"][number]);
  return ingested;
}

export interface RecomputeResult {
  evaluated: number;
  /** Accounts whose state was written (a status or episode change, or a first evaluation). */
  written: number;
  notifications: Partial<Record<NotificationType, number>>;
  /** Accounts left as they were because a price they depend on is stale (no call on stale prices). */
  skippedStale: number;
  invalid: { accountId: string; message: string }[];
  conflictsRetried: number;
  /** Accounts left as stored because a concurrent recompute had evaluated them at newer prices. */
  supersededByNewer: number;
}

export function snapshotOf(records: Map<string, PriceRecord>): PriceSnapshot {
  const prices: PriceSnapshot["prices"] = {};
  for (const [asset, record] of [...records].sort(([a], [b]) => a.localeCompare(b))) {
    if (record.latest)
      prices[asset] = {
        index: record.latest.index,
        mark: record.latest.mark,
        timestampMs: record.latest.timestampMs,
      };
  }
  const id = `snap_${createHash("sha256").update(JSON.stringify(prices)).digest("hex").slice(0, 24)}`;
  return { id, prices };
}

function notificationId(accountId: string, version: number, type: NotificationType): string {
  return `ntf_${createHash("sha256").update(`${accountId}\u0000${version}\u0000${type}`).digest("hex").slice(0, 32)}`;
}

/** A recompute that evaluated nothing: the start of every tally. */
const noRecompute = (): RecomputeResult => ({
  evaluated: 0,
  written: 0,
  notifications: {},
  skippedStale: 0,
  invalid: [],
  conflictsRetried: 0,
  supersededByNewer: 0,
});

/** A snapshot's prices as a portfolio document gives them (no timestamps). */
export const snapshotPrices = (snapshot: PriceSnapshot) =>
  Object.fromEntries(Object.entries(snapshot.prices).map(([a, p]) => [a, { index: p.index, mark: p.mark }]));

/** Domain books by stored account document: a book does not depend on prices, so parse it once. */
const parsedBooks = new WeakMap<Account, AccountBook>();

/**
 * The market of the snapshot and the domain books of the stored accounts. A stored account that no
 * longer validates (an instrument expired, a price missing) is reported, not fatal.
 */
export function parseBooks(
  accounts: Account[],
  snapshot: PriceSnapshot,
  nowMs: number,
  params: RiskParams,
  volatility: Record<string, string>,
) {
  const prices = snapshotPrices(snapshot);
  const parseWith = (list: Account[]) =>
    parsePortfolio(
      { asOf: new Date(nowMs).toISOString(), prices, volatility, accounts: list },
      params.document,
    );
  const { market } = parseWith([]);
  const invalid: { accountId: string; message: string }[] = [];
  const books: AccountBook[] = [];
  const unparsed = accounts.filter((account) => !parsedBooks.has(account));
  const parseOne = (account: Account) => {
    try {
      const [book] = parseWith([account]).accounts;
      if (book) parsedBooks.set(account, book);
    } catch (error) {
      const issues = (error as PortfolioInputError).issues ?? [];
      invalid.push({
        accountId: account.id,
        message: issues.map((i) => `${i.path}: ${i.message}`).join("; "),
      });
    }
  };
  try {
    parseWith(unparsed).accounts.forEach((book, i) => {
      parsedBooks.set(unparsed[i] as Account, book);
    });
  } catch {
    unparsed.forEach(parseOne);
  }
  for (const account of accounts) {
    const book = parsedBooks.get(account);
    if (!book) continue;
    const expired = book.positions.find(
      (p) => (p.kind === "option" ? p.expiryMs : (p.expiryMs ?? Infinity)) <= nowMs,
    );
    const unpriced = firstAsset(book, (asset) => !market.quotes.has(asset));
    if (expired) invalid.push({ accountId: account.id, message: `${expired.instrument} has expired` });
    else if (unpriced) invalid.push({ accountId: account.id, message: `no price for ${unpriced}` });
    else books.push(book);
  }
  return { market, books, invalid };
}

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
    /** The params, when the caller has read them (a sweep reads them once). */
    params?: RiskParams;
    /** The accounts' stored states, when the caller has read them (the sweep, ahead of time). */
    states?: Map<string, StoredRiskState>;
    /**
     * Per account, the assets whose stored band the tick found crossed: those bands are rewritten
     * whatever they were, so they are not read.
     */
    crossed?: ReadonlyMap<string, ReadonlySet<string>>;
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
  const records = options.prices ?? (await deps.store.getPrices());
  const snapshot = snapshotOf(records);
  // Each asset's latest price only moves forward in time (ingest refuses older events), so the sum
  // of the snapshot's price times grows with every accepted price: a state computed from a later
  // snapshot is never overwritten from an earlier one.
  const snapshotOrder = Object.values(snapshot.prices).reduce((sum, p) => sum + p.timestampMs, 0);
  // The accounts and their states are read together (a tick's two reads, in one round trip's time).
  const [stored, states] = await Promise.all([
    options.accounts ??
      deps.store.getAccounts(accountIds).then((read) => new Map([...read].map(([id, s]) => [id, s.account]))),
    options.states ?? deps.store.getRiskStates(accountIds),
  ]);
  const { market, books, invalid } = parseBooks(
    [...stored.values()],
    snapshot,
    nowMs,
    params,
    deps.volatility ?? {},
  );
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
  /** The write an account's evaluation calls for, or null when its stored state stands. */
  const evaluate = (book: AccountBook): StateWrite | null => {
    const stale = firstAsset(book, (asset) => staleAssets.has(asset)) !== undefined;
    // An account never written is HEALTHY with no episode: only a change from that is stored.
    const previous = states.get(book.id) ?? null;
    // A concurrent recompute (a tick during a sweep page) already stored a newer evaluation.
    if ((previous?.snapshotOrder ?? 0) > snapshotOrder) {
      result.supersededByNewer++;
      // Its bands are the newer evaluation's to write, not ours.
      banding.delete(book.id);
      return null;
    }
    const before: StatusState = previous ? { status: previous.status, episode: previous.episode } : HEALTHY;
    const totals = marginTotals(book, market, params);
    const status = nextStatus(before.status, totals, params);
    // Calls are never issued on stale prices: hold the previous state until prices are fresh
    // (and keep no band, so the next tick looks again).
    if (stale && status !== before.status) {
      result.skippedStale++;
      bandsOf(book, null);
      return null;
    }
    const step = transition(before, status, { accountId: book.id, atMs: nowMs }, params);
    const changed =
      before.status !== status ||
      before.episode?.id !== step.state.episode?.id ||
      step.notifications.length > 0;
    // "changed": an account whose state stands keeps its bands (they still hold: the prices are
    // inside them, or a tick would have brought it here); the sweep writes only what changed.
    if (options.bands === true || changed || options.unbanded?.has(book.id))
      bandsOf(book, { totals, status });
    if (!changed) return null;
    const state: StoredRiskState = {
      accountId: book.id,
      venue: book.venue,
      status,
      episode: step.state.episode,
      equity: valueString(totals.equity),
      initialMargin: requirementString(totals.initialMargin),
      maintenanceMargin: requirementString(totals.maintenanceMargin),
      callAmount: requirementString(callAmount(totals.equity, totals.initialMargin)),
      paramsVersion: params.version,
      snapshotId: snapshot.id,
      evaluatedAtMs: nowMs,
      snapshotOrder,
      version: (previous?.version ?? 0) + 1,
      evidence: {
        asOf: new Date(nowMs).toISOString(),
        account: stored.get(book.id) as Account,
        prices: snapshotPrices(snapshot),
        volatility: deps.volatility ?? {},
        paramsVersion: params.version,
        previousStatus: before.status,
      },
    };
    const notifications = step.notifications.map((type) =>
      // An account never written counts as HEALTHY, and its first notification says so (DESIGN §3.6).
      notificationFor(type, state, previous?.status ?? "HEALTHY", snapshot, nowMs),
    );
    return { state, previous, notifications };
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
            assets: sensitiveAssets(book).filter((asset) => !options.crossed?.get(book.id)?.has(asset)),
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

/** An account's totals and the status it holds after them: what its bands are computed from. */
type Evaluation = { totals: MarginTotals; status: AccountStatus };

/**
 * The bands to write after these evaluations: core's, less every band whose stored one lies inside
 * it and still holds the current price (as safe: moves within the stored band stay within the new
 * one's guarantee, only more eager; and a read costs DynamoDB Local a fraction of an indexed write)
 * or is "no band" again.
 */
function newBands(
  evaluated: { book: AccountBook; held: Evaluation | null }[],
  stored: Map<string, StoredBand[]>,
  market: Market,
  params: RiskParams,
): StoredBand[] {
  const bands: StoredBand[] = [];
  for (const { book, held } of evaluated) {
    const before = new Map(
      (stored.get(book.id) ?? []).map((b) => [
        b.asset,
        {
          asset: b.asset,
          low: b.low === null ? null : new Decimal(b.low),
          high: b.high === null ? null : new Decimal(b.high),
        },
      ]),
    );
    const computed = held
      ? triggerBands(book, market, params, held.totals, held.status)
      : sensitiveAssets(book).map((asset): PriceBand => ({ asset, low: null, high: null }));
    for (const band of computed) {
      const old = before.get(band.asset);
      const quote = market.quotes.get(band.asset);
      const inside =
        old?.low &&
        old.high &&
        band.low &&
        band.high &&
        old.low.gte(band.low) &&
        old.high.lte(band.high) &&
        // A stored band the current price has left would trigger again on every tick.
        quote !== undefined &&
        old.low.lte(Decimal.min(quote.index, quote.mark)) &&
        old.high.gte(Decimal.max(quote.index, quote.mark));
      const noneAgain =
        old && old.low === null && old.high === null && band.low === null && band.high === null;
      if (!inside && !noneAgain)
        bands.push({
          accountId: book.id,
          asset: band.asset,
          low: band.low?.toFixed() ?? null,
          high: band.high?.toFixed() ?? null,
        });
    }
  }
  return bands;
}

const HEALTHY: StatusState = { status: "HEALTHY", episode: null };

/** Accounts retried alone at once after losing a race in a grouped write. */
const RETRY_CONCURRENCY = 16;

/** The first asset the book depends on (collateral, then underlyings) that matches. No allocation: hot path. */
function firstAsset(book: AccountBook, matches: (asset: string) => boolean): string | undefined {
  for (const c of book.collateral) if (matches(c.asset)) return c.asset;
  for (const p of book.positions) if (matches(p.underlying)) return p.underlying;
  return undefined;
}

/** Assets missing from the snapshot are caught as unpriced; these are the ones priced too long ago. */
function staleAssetsOf(snapshot: PriceSnapshot, nowMs: number, maxAgeSeconds: number): Set<string> {
  return new Set(
    Object.entries(snapshot.prices)
      .filter(([, price]) => nowMs - price.timestampMs > maxAgeSeconds * 1000)
      .map(([asset]) => asset),
  );
}

function notificationFor(
  type: NotificationType,
  state: StoredRiskState,
  previousStatus: StoredRiskState["status"],
  snapshot: PriceSnapshot,
  nowMs: number,
): NotificationRecord {
  const payload: MarginNotificationPayload = {
    type,
    timestamp: new Date(nowMs).toISOString(),
    data: {
      venue: state.venue,
      account: state.accountId,
      status: state.status,
      previousStatus,
      equity: state.equity,
      initialMargin: state.initialMargin,
      maintenanceMargin: state.maintenanceMargin,
      callAmount: state.callAmount,
      deadline: state.episode ? new Date(state.episode.deadlineMs).toISOString() : null,
      episodeId: state.episode?.id ?? null,
      paramsVersion: state.paramsVersion,
      priceSnapshot: { id: snapshot.id, prices: snapshotPrices(snapshot) },
    },
  };
  return {
    id: notificationId(state.accountId, state.version, type),
    type,
    venue: state.venue,
    accountId: state.accountId,
    episodeId: state.episode?.id ?? null,
    createdAtMs: nowMs,
    payload,
    ...(state.evidence ? { evidence: state.evidence } : {}),
  };
}

/**
 * margin.call.expired, once per episode, for episodes whose deadline has passed uncured. The due
 * accounts' writes go out grouped (a crash tick expires hundreds at once); an account whose state
 * moved meanwhile is re-read and done alone.
 */
export async function expireCalls(deps: EngineDeps): Promise<number> {
  const nowMs = deps.now();
  const due = await deps.store.dueEpisodes(nowMs);
  if (due.length === 0) return 0;
  const [snapshot, states] = await Promise.all([
    deps.store.getPrices().then(snapshotOf),
    deps.store.getRiskStates(due),
  ]);
  const expiryOf = (previous: StoredRiskState | undefined): StateWrite | null => {
    if (!previous) return null;
    const step = expire({ status: previous.status, episode: previous.episode }, nowMs);
    if (step.notifications.length === 0) return null;
    const state: StoredRiskState = {
      ...previous,
      episode: step.state.episode,
      version: previous.version + 1,
    };
    const notifications = step.notifications.map((type) =>
      notificationFor(type, state, previous.status, snapshot, nowMs),
    );
    return { state, previous, notifications };
  };
  const writes = due.map((id) => expiryOf(states.get(id))).filter((w): w is StateWrite => w !== null);
  const conflicted = writes.length > 0 ? await deps.store.writeStates(writes) : new Set<string>();
  let emitted = 0;
  for (const write of writes)
    if (!conflicted.has(write.state.accountId)) emitted += write.notifications.length;
  for (const accountId of conflicted) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const write = expiryOf((await deps.store.getRiskStates([accountId])).get(accountId));
      if (!write) break;
      try {
        await deps.store.writeState(write);
        emitted += write.notifications.length;
        break;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
  }
  return emitted;
}

/**
 * One tick: ingest the events, then recompute the accounts the moves can affect. `bands` (the
 * default, DESIGN §3.7): only accounts whose trigger band on a moved asset no longer holds the new
 * price, found by range queries, and their bands are rewritten. `full`: every account exposed to a
 * moved asset (the baseline, and what the sweep does for everyone).
 */
export async function processPriceEvents(
  input: unknown,
  deps: EngineDeps,
  options: {
    mode?: "bands" | "full";
    /** Returns true to take the recompute of these accounts elsewhere (the fan-out to a queue). */
    defer?: (ids: string[]) => boolean;
  } = {},
) {
  const ingest = await ingestPriceEvents(input, deps);
  const ids = new Set<string>();
  const crossed = new Map<string, Set<string>>();
  const mode = options.mode ?? "bands";
  const prices = mode === "bands" && ingest.movedAssets.size > 0 ? ingest.prices : null;
  for (const asset of ingest.movedAssets) {
    const latest = prices?.get(asset)?.latest;
    const found = latest
      ? await deps.store.triggeredAccountIds(
          asset,
          Decimal.min(latest.index, latest.mark).toFixed(),
          Decimal.max(latest.index, latest.mark).toFixed(),
        )
      : await deps.store.exposedAccountIds(asset);
    for (const id of found) {
      ids.add(id);
      if (latest) crossed.set(id, (crossed.get(id) ?? new Set()).add(asset));
    }
  }
  const triggered = [...ids];
  const recompute = options.defer?.(triggered)
    ? noRecompute()
    : await recomputeAccounts(triggered, deps, {
        bands: mode === "bands",
        ...(prices ? { prices, crossed } : {}),
      });
  return { ingest, recompute, triggered: ids.size };
}

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
const UNBANDED_SNAPSHOT_LIMIT = 100_000;

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
