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
  buildRiskParams,
  callAmount,
  DEFAULT_RISK_PARAMS,
  Decimal,
  expire,
  guardPrice,
  type Market,
  marginTotals,
  type NotificationType,
  nextStatus,
  type PortfolioInputError,
  type PriceUpdate,
  parsePortfolio,
  priceGuardParams,
  type RiskParams,
  requirementString,
  type StatusState,
  transition,
  valueString,
} from "@backing/core";
import {
  type EngineStore,
  type NotificationRecord,
  type PriceRecord,
  type PriceSnapshot,
  type StoredPrice,
  type StoredRiskState,
  VersionConflictError,
} from "./ports.ts";

export interface EngineDeps {
  store: EngineStore;
  /** Injected clock (ms since epoch): the replay passes event time. */
  now: () => number;
}

/** A price event batch that failed validation: nothing was written. */
export class PriceEventInputError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid price event:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
    this.name = "PriceEventInputError";
  }
}

export type IngestOutcome = "accepted" | "confirmed-jump" | "held" | "stale" | "out-of-order" | "duplicate";

export interface IngestResult {
  outcomes: { eventId: string; asset: string; outcome: IngestOutcome }[];
  /** Assets whose latest price moved: their exposed accounts need a recompute. */
  movedAssets: Set<string>;
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
async function currentParams(store: EngineStore): Promise<RiskParams> {
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
  let records = await deps.store.getPrices();
  const result: IngestResult = { outcomes: [], movedAssets: new Set() };
  for (const event of events) {
    const update: StoredPrice = {
      asset: event.asset,
      index: event.index,
      mark: event.mark ?? event.index,
      timestampMs: Date.parse(event.timestamp),
      sequence: event.sequence ?? null,
      source: event.source,
      eventId: event.eventId,
    };
    for (let attempt = 0; ; attempt++) {
      const record: PriceRecord = records.get(event.asset) ?? { latest: null, held: null };
      if (record.latest?.eventId === update.eventId || record.held?.eventId === update.eventId) {
        result.outcomes.push({ eventId: event.eventId, asset: event.asset, outcome: "duplicate" });
        break;
      }
      const verdict = guardPrice(
        toUpdate(update),
        record.latest && toUpdate(record.latest),
        record.held && toUpdate(record.held),
        deps.now(),
        guards,
      );
      if (verdict.kind === "reject") {
        result.outcomes.push({ eventId: event.eventId, asset: event.asset, outcome: verdict.reason });
        break;
      }
      const written = await deps.store.applyPriceUpdate(update, verdict.kind, record);
      if (written === "conflict" && attempt < 5) {
        records = await deps.store.getPrices();
        continue;
      }
      const outcome: IngestOutcome =
        written === "duplicate" || written === "conflict"
          ? "duplicate"
          : verdict.kind === "hold"
            ? "held"
            : verdict.reason === "confirmed-jump"
              ? "confirmed-jump"
              : "accepted";
      result.outcomes.push({ eventId: event.eventId, asset: event.asset, outcome });
      if (written === "applied") {
        const next: PriceRecord =
          verdict.kind === "hold" ? { ...record, held: update } : { latest: update, held: null };
        records.set(event.asset, next);
        // Only a changed price can change a status; an unchanged one only refreshes its age.
        const moved = record.latest?.mark !== update.mark || record.latest?.index !== update.index;
        if (verdict.kind === "accept" && moved) result.movedAssets.add(event.asset);
      }
      break;
    }
  }
  return result;
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
}

function snapshotOf(records: Map<string, PriceRecord>): PriceSnapshot {
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

/** Parses the stored accounts against the snapshot; an account that no longer validates is reported, not fatal. */
function parseBooks(accounts: Account[], snapshot: PriceSnapshot, nowMs: number, params: RiskParams) {
  const prices = Object.fromEntries(
    Object.entries(snapshot.prices).map(([a, p]) => [a, { index: p.index, mark: p.mark }]),
  );
  const document = (list: Account[]) => ({
    asOf: new Date(nowMs).toISOString(),
    prices,
    accounts: list,
    params: undefined,
  });
  const invalid: { accountId: string; message: string }[] = [];
  const parseWith = (list: Account[]) => parsePortfolio(document(list), params.document);
  try {
    const portfolio = parseWith(accounts);
    return { market: portfolio.market, books: portfolio.accounts, invalid };
  } catch {
    const books: AccountBook[] = [];
    let market: Market | undefined;
    for (const account of accounts) {
      try {
        const portfolio = parseWith([account]);
        market = portfolio.market;
        books.push(...portfolio.accounts);
      } catch (error) {
        const issues = (error as PortfolioInputError).issues ?? [];
        invalid.push({
          accountId: account.id,
          message: issues.map((i) => `${i.path}: ${i.message}`).join("; "),
        });
      }
    }
    return { market, books, invalid };
  }
}

/**
 * Recompute the given accounts against the latest accepted prices and the current params: evaluate
 * with core, apply the status machine (hysteresis, episodes), and write the state only when the
 * status or episode changed (or on first evaluation), with its notifications in the same
 * transaction. A lost race re-reads the account's state and redoes it, so two workers never lose
 * an update or emit a transition twice.
 */
export async function recomputeAccounts(
  accountIds: readonly string[],
  deps: EngineDeps,
): Promise<RecomputeResult> {
  const nowMs = deps.now();
  const params = await currentParams(deps.store);
  const guards = priceGuardParams(params);
  const records = await deps.store.getPrices();
  const snapshot = snapshotOf(records);
  await deps.store.putSnapshot(snapshot);
  const stored = await deps.store.getAccounts(accountIds);
  const { market, books, invalid } = parseBooks(
    [...stored.values()].map((s) => s.account),
    snapshot,
    nowMs,
    params,
  );
  const result: RecomputeResult = {
    evaluated: 0,
    written: 0,
    notifications: {},
    skippedStale: 0,
    invalid,
    conflictsRetried: 0,
  };
  if (!market) return result;
  let states = await deps.store.getRiskStates(books.map((b) => b.id));

  for (const book of books) {
    const stale = dependsOnStalePrice(book, snapshot, nowMs, guards.maxPriceAgeSeconds);
    for (let attempt = 0; attempt < 5; attempt++) {
      const previous = states.get(book.id) ?? null;
      const totals = marginTotals(book, market, params);
      const previousState: StatusState | null = previous && {
        status: previous.status,
        episode: previous.episode,
      };
      const status = nextStatus(previous?.status ?? null, totals, params);
      if (attempt === 0) result.evaluated++;
      // Calls are never issued on stale prices: hold the previous state until prices are fresh.
      if (stale && previous && status !== previous.status) {
        result.skippedStale++;
        break;
      }
      const step = transition(previousState, status, { accountId: book.id, atMs: nowMs }, params);
      const changed =
        !previous ||
        previous.status !== status ||
        previous.episode?.id !== step.state.episode?.id ||
        step.notifications.length > 0;
      if (!changed) break;
      const version = (previous?.version ?? 0) + 1;
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
        version,
      };
      const notifications = step.notifications.map((type) =>
        notificationFor(type, state, previous?.status ?? null, snapshot, nowMs),
      );
      try {
        await deps.store.writeState({ state, expectedVersion: previous?.version ?? null, notifications });
        result.written++;
        for (const n of notifications) result.notifications[n.type] = (result.notifications[n.type] ?? 0) + 1;
        break;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        result.conflictsRetried++;
        states = new Map([...states, ...(await deps.store.getRiskStates([book.id]))]);
      }
    }
  }
  return result;
}

function dependsOnStalePrice(
  book: AccountBook,
  snapshot: PriceSnapshot,
  nowMs: number,
  maxAgeSeconds: number,
): boolean {
  const assets = new Set([
    ...book.collateral.map((c) => c.asset),
    ...book.positions.map((p) => p.underlying),
  ]);
  for (const asset of assets) {
    const price = snapshot.prices[asset];
    if (!price || nowMs - price.timestampMs > maxAgeSeconds * 1000) return true;
  }
  return false;
}

function notificationFor(
  type: NotificationType,
  state: StoredRiskState,
  previousStatus: StoredRiskState["status"] | null,
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
      priceSnapshot: {
        id: snapshot.id,
        prices: Object.fromEntries(
          Object.entries(snapshot.prices).map(([a, p]) => [a, { index: p.index, mark: p.mark }]),
        ),
      },
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
  };
}

/** margin.call.expired, once per episode, for episodes whose deadline has passed uncured. */
export async function expireCalls(deps: EngineDeps): Promise<number> {
  const nowMs = deps.now();
  const due = await deps.store.dueEpisodes(nowMs);
  const snapshot = snapshotOf(await deps.store.getPrices());
  let emitted = 0;
  for (const accountId of due) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const previous = (await deps.store.getRiskStates([accountId])).get(accountId);
      if (!previous) break;
      const step = expire({ status: previous.status, episode: previous.episode }, nowMs);
      if (step.notifications.length === 0) break;
      const state: StoredRiskState = {
        ...previous,
        episode: step.state.episode,
        version: previous.version + 1,
      };
      const notifications = step.notifications.map((type) =>
        notificationFor(type, state, previous.status, snapshot, nowMs),
      );
      try {
        await deps.store.writeState({ state, expectedVersion: previous.version, notifications });
        emitted += notifications.length;
        break;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
      }
    }
  }
  return emitted;
}

/** One tick: ingest the events, then recompute every account exposed to an asset whose price moved. */
export async function processPriceEvents(input: unknown, deps: EngineDeps) {
  const ingest = await ingestPriceEvents(input, deps);
  const ids = new Set<string>();
  for (const asset of ingest.movedAssets)
    for (const id of await deps.store.exposedAccountIds(asset)) ids.add(id);
  const recompute = await recomputeAccounts([...ids], deps);
  return { ingest, recompute };
}
