/**
 * The venue's side of a replay (DESIGN §3.12, §7): what an exchange does after Backing's calls.
 * It watches the engine's state writes (statuses, transitions, notifications), liquidates accounts
 * in LIQUIDATION through the core model, runs bankruptcies down the waterfall (insurance fund,
 * then ADL), writes the accounts back through the engine (which evaluates them at once), and lets
 * a seeded share of called clients top up before the deadline.
 */
import type {
  Account,
  MarginNotificationPayload,
  ReplayAccount,
  ReplayNotification,
  ReplayTotals,
  RiskParamsDocument,
} from "@backing/contracts";
import {
  type AccountBook,
  type AccountStatus,
  accountAfterTrades,
  accountRisk,
  type Bankruptcy,
  buildRiskParams,
  Decimal,
  liquidateAccount,
  liquidationSettings,
  type NotificationType,
  type RiskParams,
  requirementString,
  runWaterfall,
  seededRandom,
  type VenueFill,
  valueString,
  writeOff,
  ZERO,
} from "@backing/core";
import {
  type EngineDeps,
  isOpenPosition,
  latestSnapshot,
  type NotificationRecord,
  type PriceSnapshot,
  parseBooks,
  recomputeAccounts,
  replaceAccounts,
  type StateWrite,
  type Store,
} from "@backing/engine";

const STABLE_DEPOSIT_ASSET = "USDC";

/** A perp or future still open: what the liquidation model closes. */
const closable = (position: Account["positions"][number]) =>
  position.type !== "option" && isOpenPosition(position);

/** FNV-1a of the text: the seed of one client's draw, so a draw never depends on the order of events. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export interface VenueDeskOptions {
  accounts: readonly Account[];
  params: RiskParamsDocument;
  /** Share of called clients that deposit before the deadline, 0–1. */
  topUp: number;
  seed: number;
  /** Implied vols the engine falls back to (the portfolio's). */
  volatility: Record<string, string>;
}

export class VenueDesk {
  readonly statuses = new Map<string, AccountStatus>();
  /** Each account's open episode, as its last state write left it. */
  private readonly episodes = new Map<string, string>();
  readonly docs = new Map<string, Account>();
  readonly accounts = new Map<string, ReplayAccount>();
  readonly notifications: ReplayNotification[] = [];
  fund: Decimal;
  private fees = ZERO;
  private badDebt = ZERO;
  private fundUsed = ZERO;
  private liquidatedNotional = ZERO;
  private adlNotional = ZERO;
  private liquidations = 0;
  private topUps = 0;
  private falseAlarms = 0;
  private readonly counts = new Map<NotificationType, number>();
  /** Episodes a deposit or a liquidation acted on: their cure is no false alarm. */
  private readonly actedOn = new Set<string>();
  /** Called accounts drawn to top up, by the episode they top up: this step's calls, and earlier ones. */
  private calledNow = new Map<string, string>();
  private calledBefore = new Map<string, string>();
  private readonly settings;
  private readonly params: RiskParams;

  constructor(private readonly options: VenueDeskOptions) {
    this.fund = new Decimal(options.params.stress?.insuranceFund ?? "0");
    this.settings = liquidationSettings(options.params);
    this.params = buildRiskParams(options.params);
    for (const account of options.accounts) {
      this.docs.set(account.id, account);
      this.statuses.set(account.id, "HEALTHY");
      this.accounts.set(account.id, { transitions: [], fills: [], badDebt: "0" });
    }
  }

  /** The store the engine writes through, with every state write it makes seen here. */
  watch<S extends Store>(store: S): S {
    const seen = (write: StateWrite) => this.observe(write);
    return new Proxy(store, {
      get(target, property) {
        if (property === "writeStates")
          return async (writes: readonly StateWrite[]) => {
            const conflicts = await target.writeStates(writes);
            for (const write of writes) if (!conflicts.has(write.state.accountId)) seen(write);
            return conflicts;
          };
        if (property === "writeState")
          return async (write: StateWrite) => {
            await target.writeState(write);
            seen(write);
          };
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  private observe({ state, previous, notifications }: StateWrite): void {
    const from = previous?.status ?? "HEALTHY";
    const at = new Date(state.evaluatedAtMs).toISOString();
    this.statuses.set(state.accountId, state.status);
    if (state.episode) this.episodes.set(state.accountId, state.episode.id);
    else this.episodes.delete(state.accountId);
    const account = this.accounts.get(state.accountId);
    if (account && from !== state.status) account.transitions.push({ timestamp: at, from, to: state.status });
    for (const record of notifications) this.noteNotification(record, state.accountId);
  }

  private noteNotification(record: NotificationRecord, accountId: string): void {
    const payload = record.payload as MarginNotificationPayload;
    const type = record.type as NotificationType;
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    this.notifications.push({
      timestamp: new Date(record.createdAtMs).toISOString(),
      account: accountId,
      type: type as ReplayNotification["type"],
      equity: payload.data.equity,
      initialMargin: payload.data.initialMargin,
      maintenanceMargin: payload.data.maintenanceMargin,
    });
    const episode = record.episodeId ?? "";
    if (type === "margin.call" && this.options.topUp > 0) {
      const draw = seededRandom(hash(`${this.options.seed}:${accountId}:${episode}`))();
      if (draw < this.options.topUp) this.calledNow.set(accountId, episode);
    }
    if (type === "margin.cured" && !this.actedOn.has(`${accountId}#${episode}`)) this.falseAlarms++;
  }

  /** What the venue does once a step's prices, funding and deadlines are in: liquidations, then top-ups. */
  async afterStep(deps: EngineDeps, nowMs: number): Promise<void> {
    await this.liquidate(deps, nowMs);
    await this.topUp(deps, nowMs);
  }

  /**
   * The clients drawn at an earlier step's call deposit, after this step's prices are in and
   * while still called, what clears the call then: IM × (1 + cureBuffer) − equity, in USDC at its
   * index (from the state just evaluated). This step's calls deposit at the next step.
   */
  private async topUp(deps: EngineDeps, nowMs: number): Promise<void> {
    const due = new Map([...this.calledBefore].filter(([id]) => this.statuses.get(id) === "MARGIN_CALL"));
    this.calledBefore = this.calledNow;
    this.calledNow = new Map();
    if (due.size === 0) return;
    // Figures at this step's prices: a stored state is only rewritten when its band is left.
    const { market, books } = this.books(await latestSnapshot(deps.store), nowMs, due.keys());
    const usdc = market.quotes.get(STABLE_DEPOSIT_ASSET)?.index ?? new Decimal(1);
    const cure = new Decimal(1).plus(this.params.status.cureBuffer);
    const changed: Account[] = [];
    for (const book of books) {
      const doc = this.docs.get(book.id);
      const risk = accountRisk(book, market, this.params);
      const need = risk.initialMargin.times(cure).minus(risk.equity);
      if (!doc || need.lte(0)) continue;
      const amount = need.div(usdc).toDecimalPlaces(8, Decimal.ROUND_CEIL);
      const held = new Decimal(doc.collateral[STABLE_DEPOSIT_ASSET] ?? "0");
      changed.push({
        ...doc,
        collateral: { ...doc.collateral, [STABLE_DEPOSIT_ASSET]: held.plus(amount).toFixed() },
      });
      this.actedOn.add(`${book.id}#${due.get(book.id)}`);
      this.topUps++;
    }
    await this.write(deps, changed);
  }

  /**
   * The venue liquidates every account in LIQUIDATION at the latest accepted prices, takes the
   * fees into the fund, and runs the step's bankruptcies down the waterfall.
   */
  private async liquidate(deps: EngineDeps, nowMs: number): Promise<void> {
    // An account left in LIQUIDATION by options alone has nothing the model closes.
    const liquidating = [...this.statuses]
      .filter(([id, s]) => s === "LIQUIDATION" && this.docs.get(id)?.positions.some(closable))
      .map(([id]) => id);
    if (liquidating.length === 0) return;
    const timestamp = new Date(nowMs).toISOString();
    const snapshot = await latestSnapshot(deps.store);
    const { market, books } = this.books(snapshot, nowMs, liquidating);
    const changed = new Map<string, AccountBook>();
    const bankruptcies: Bankruptcy[] = [];
    for (const book of books) {
      const outcome = liquidateAccount(book, market, this.params, this.settings);
      if (outcome.fills.length === 0) continue;
      this.liquidations++;
      this.actedOn.add(`${book.id}#${this.episodes.get(book.id) ?? ""}`);
      this.fees = this.fees.plus(outcome.fees);
      this.fund = this.fund.plus(outcome.fees);
      this.liquidatedNotional = this.liquidatedNotional.plus(outcome.closedNotional);
      this.recordFills(outcome.fills, timestamp);
      changed.set(book.id, outcome.book);
      if (outcome.badDebt.gt(0)) {
        const closed = new Map<string, Decimal>();
        for (const fill of outcome.fills)
          closed.set(fill.underlying, (closed.get(fill.underlying) ?? ZERO).minus(fill.size));
        bankruptcies.push({ account: book.id, venue: book.venue, badDebt: outcome.badDebt, closed });
      }
    }
    if (bankruptcies.length > 0) {
      // The venues' other accounts are ranked for ADL only when the fund cannot pay it all.
      const deficit = bankruptcies.reduce((sum, b) => sum.plus(b.badDebt), ZERO);
      const venues = new Set(bankruptcies.map((b) => b.venue));
      const others = deficit.gt(this.fund)
        ? [...this.docs.values()].filter((d) => venues.has(d.venue) && !changed.has(d.id)).map((d) => d.id)
        : [];
      const counterparties = this.books(snapshot, nowMs, others).books;
      const waterfall = runWaterfall(bankruptcies, counterparties, market, this.params, this.fund);
      this.fund = waterfall.fundAfter;
      this.fundUsed = this.fundUsed.plus(waterfall.fundUsed);
      this.adlNotional = this.adlNotional.plus(waterfall.adlNotional);
      this.recordFills(waterfall.fills, timestamp);
      for (const [id, book] of waterfall.books) changed.set(id, book);
      for (const bankrupt of bankruptcies) {
        this.badDebt = this.badDebt.plus(bankrupt.badDebt);
        const account = this.accounts.get(bankrupt.account);
        if (account) account.badDebt = requirementString(new Decimal(account.badDebt).plus(bankrupt.badDebt));
        changed.set(
          bankrupt.account,
          writeOff(changed.get(bankrupt.account) as AccountBook, bankrupt.badDebt),
        );
      }
    }
    const docs: Account[] = [];
    for (const [id, book] of changed) {
      const doc = this.docs.get(id);
      if (doc) docs.push(accountAfterTrades(doc, book));
    }
    await this.write(deps, docs);
  }

  private recordFills(fills: readonly VenueFill[], timestamp: string): void {
    for (const fill of fills)
      this.accounts.get(fill.account)?.fills.push({
        timestamp,
        instrument: fill.instrument,
        size: fill.size.toFixed(),
        price: fill.price.toFixed(),
        fee: valueString(fill.fee),
        kind: fill.kind,
        ...(fill.kind === "adl" ? { charge: valueString(fill.charge) } : {}),
      });
  }

  /** The accounts' books as the engine evaluates them at `snapshot` (mark guard, implied vols, funding). */
  private books(snapshot: PriceSnapshot, nowMs: number, ids: Iterable<string>) {
    const docs = [...ids].map((id) => this.docs.get(id)).filter((d): d is Account => d !== undefined);
    // An account the engine cannot evaluate either (an instrument expired) is left out.
    return parseBooks(docs, snapshot, nowMs, this.params, this.options.volatility);
  }

  /** The venue's changes in, and evaluated at once (as an API write is): their calls and cures follow. */
  private async write(deps: EngineDeps, docs: readonly Account[]): Promise<void> {
    if (docs.length === 0) return;
    const previous = new Map(docs.map((d) => [d.id, this.docs.get(d.id) as Account]));
    for (const doc of docs) this.docs.set(doc.id, doc);
    await replaceAccounts(deps.store, [...docs], previous);
    await recomputeAccounts(
      docs.map((d) => d.id),
      deps,
      { bands: true },
    );
  }

  /** Margin notifications written so far, by type (the engine's and those the venue's writes caused). */
  notificationCounts(): Partial<Record<NotificationType, number>> {
    return Object.fromEntries(this.counts);
  }

  accountsByStatus(): Record<AccountStatus, number> {
    const counts: Record<AccountStatus, number> = { HEALTHY: 0, WARNING: 0, MARGIN_CALL: 0, LIQUIDATION: 0 };
    for (const status of this.statuses.values()) counts[status]++;
    return counts;
  }

  totals(): ReplayTotals {
    return {
      calls: this.counts.get("margin.call") ?? 0,
      liquidations: this.liquidations,
      cures: this.counts.get("margin.cured") ?? 0,
      expiredCalls: this.counts.get("margin.call.expired") ?? 0,
      falseAlarms: this.falseAlarms,
      topUps: this.topUps,
      liquidatedNotional: valueString(this.liquidatedNotional),
      fees: valueString(this.fees),
      badDebt: requirementString(this.badDebt),
      fundUsed: requirementString(this.fundUsed),
      adlNotional: valueString(this.adlNotional),
    };
  }
}
