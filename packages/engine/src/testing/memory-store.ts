/**
 * Every role port in memory, for engine tests that test engine logic rather than DynamoDB. It keeps
 * the DynamoDB store's contract (test/helpers/store-contract.ts runs the same suite on both):
 * conditional writes refuse the same things, bands read back as indexed (edges rounded toward the
 * inside at 20 decimals), and every document goes in and comes out as a copy.
 */
import type { Account, DepthSnapshot, RiskParamsDocument } from "@backing/contracts";
import { Decimal } from "@backing/core";
import { VersionConflictError } from "../errors.ts";
import {
  type ApiKeyRecord,
  type BookPage,
  type DeliveryCandidate,
  type DeliveryRecord,
  deliveryKey,
  exposureAssets,
  type FullSweepRecord,
  type FundingRecord,
  type JobRun,
  type LaneEntry,
  type LaneHead,
  laneEntryOf,
  laneWith,
  type NotificationRecord,
  type PriceRecord,
  type PriceSnapshot,
  type PriceUpdateWrite,
  type PriceWriteResult,
  type ReportSummary,
  type StateWrite,
  type Store,
  type StoredAccount,
  type StoredBand,
  type StoredRiskState,
  type SweepRun,
  type SweepSummary,
  type SweepTotals,
  type UnwatchedAccount,
  type WebhookEndpoint,
} from "../ports/index.ts";

const copy = <T>(value: T): T => structuredClone(value);
/** The DynamoDB store indexes band edges at 20 decimals, each rounded toward the inside of the band. */
const INDEX_DECIMALS = 20;
const indexedEdge = (edge: string, rounding: typeof Decimal.ROUND_UP | typeof Decimal.ROUND_DOWN) =>
  edge === "0" || edge === "Infinity"
    ? edge
    : new Decimal(edge).toDecimalPlaces(INDEX_DECIMALS, rounding).toFixed();
const byKey =
  <T>(key: (item: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
const venueOrder = (n: NotificationRecord) => `${new Date(n.createdAtMs).toISOString()}#${n.id}`;
/** Segments of the book for parallel readers: any split that covers each account once will do. */
const segmentOf = (accountId: string, count: number) =>
  [...accountId].reduce((sum, char) => sum + char.charCodeAt(0), 0) % count;

export function memoryStore(): Store {
  const accounts = new Map<string, StoredAccount>();
  /** asset → account → band (null edges: the "no band" entry every new exposure starts with). */
  const exposure = new Map<string, Map<string, StoredBand>>();
  const exposureOf = (asset: string) => {
    let entries = exposure.get(asset);
    if (!entries) {
      entries = new Map();
      exposure.set(asset, entries);
    }
    return entries;
  };
  const states = new Map<string, StoredRiskState>();
  const prices = new Map<string, PriceRecord & { revision: string }>();
  const priceEvents = new Set<string>();
  const snapshots = new Map<string, PriceSnapshot>();
  let params: RiskParamsDocument | null = null;
  const paramsVersions = new Map<string, RiskParamsDocument>();
  const reports: ReportSummary[] = [];
  const notifications = new Map<string, NotificationRecord>();
  const endpoints = new Map<string, WebhookEndpoint>();
  const apiKeys = new Map<string, ApiKeyRecord>();
  const deliveries = new Map<string, DeliveryRecord>();
  const lanes = new Map<
    string,
    { endpointId: string; accountId: string; queue: LaneEntry[]; leaseUntilMs: number }
  >();
  let sweepLease: { owner: string; untilMs: number } | null = null;
  const sweepRuns = new Map<string, SweepRun>();
  const sweepSegments = new Map<string, Map<number, SweepTotals>>();
  const jobRuns = new Map<string, { run: JobRun; finished: Map<number, Set<number>> }>();
  let lastFull: FullSweepRecord | null = null;
  const unwatched = new Map<string, UnwatchedAccount>();
  const funding = new Map<string, FundingRecord>();
  const fundingEvents = new Set<string>();
  const depth = new Map<string, DepthSnapshot>();
  const laneEntries = (endpointId: string, accountId: string) =>
    lanes.get(`${endpointId}#${accountId}`)?.queue ?? [];
  const laneOf = (endpointId: string, accountId: string) =>
    laneEntries(endpointId, accountId).map((e) => e.notificationId);
  /** A lane whose head changes takes `leaseUntilMs`; an empty lane is gone. */
  const setLane = (endpointId: string, accountId: string, queue: LaneEntry[], leaseUntilMs: number) => {
    const key = `${endpointId}#${accountId}`;
    const before = lanes.get(key);
    if (queue.length === 0) lanes.delete(key);
    else
      lanes.set(key, {
        endpointId,
        accountId,
        queue,
        leaseUntilMs:
          before && before.queue[0]?.notificationId === queue[0]?.notificationId
            ? before.leaseUntilMs
            : leaseUntilMs,
      });
  };

  /** The state write's conditions: the version read, and outbox items that do not exist yet. */
  const stateWriteHolds = ({ state, previous, notifications: outbox }: StateWrite) =>
    states.get(state.accountId)?.version === previous?.version &&
    outbox.every((n) => !notifications.has(n.id));
  const applyStateWrite = ({ state, notifications: outbox }: StateWrite) => {
    states.set(state.accountId, copy(state));
    for (const n of outbox) notifications.set(n.id, copy(n));
  };
  const applyPriceUpdate = ({ update, action, previous }: PriceUpdateWrite): PriceWriteResult => {
    if (priceEvents.has(update.eventId)) return "duplicate";
    const previousRevision = previous.held?.eventId ?? previous.latest?.eventId;
    if (prices.get(update.asset)?.revision !== previousRevision) return "conflict";
    priceEvents.add(update.eventId);
    prices.set(update.asset, {
      ...(action === "accept"
        ? { latest: copy(update), held: null }
        : { latest: copy(previous.latest), held: copy(update) }),
      revision: update.eventId,
    });
    return "applied";
  };

  return {
    // --- accounts ------------------------------------------------------------------------------
    async putAccounts(list: Account[], keepExposure?: ReadonlyMap<string, readonly string[]>) {
      for (const account of list) {
        accounts.set(account.id, { account: copy(account), version: 1 });
        const kept = keepExposure?.get(account.id) ?? [];
        for (const asset of exposureAssets(account).filter((a) => !kept.includes(a)))
          exposureOf(asset).set(account.id, { accountId: account.id, asset, low: null, high: null });
      }
    },
    async getAccounts(ids: readonly string[]) {
      return new Map(
        ids.flatMap((id) => (accounts.has(id) ? [[id, copy(accounts.get(id) as StoredAccount)]] : [])),
      );
    },
    async deleteAccount(account: Account) {
      accounts.delete(account.id);
      states.delete(account.id);
      for (const asset of exposureAssets(account)) exposure.get(asset)?.delete(account.id);
    },
    async *scanAccounts(pageSize: number, segment = { index: 0, count: 1 }) {
      const all = [...accounts.values()]
        .map((s) => copy(s.account))
        .filter((account) => segmentOf(account.id, segment.count) === segment.index);
      for (let i = 0; i < all.length; i += pageSize) yield all.slice(i, i + pageSize);
    },
    async *scanBook(pageSize: number, segment = { index: 0, count: 1 }): AsyncIterable<BookPage> {
      const mine = [...accounts.values()]
        .map((s) => copy(s.account))
        .filter((account) => segmentOf(account.id, segment.count) === segment.index);
      for (let i = 0; i < mine.length; i += pageSize) {
        const page = mine.slice(i, i + pageSize);
        const pageStates = new Map(
          page.flatMap((a) => (states.has(a.id) ? [[a.id, copy(states.get(a.id) as StoredRiskState)]] : [])),
        );
        yield { accounts: page, states: pageStates };
      }
    },

    // --- trigger index -------------------------------------------------------------------------
    async exposedAccountIds(asset: string) {
      return [...(exposure.get(asset)?.keys() ?? [])];
    },
    async putBands(bands: readonly StoredBand[]) {
      for (const band of bands)
        exposureOf(band.asset).set(band.accountId, {
          ...band,
          ...(band.low !== null && band.high !== null
            ? {
                low: indexedEdge(band.low, Decimal.ROUND_UP),
                high: indexedEdge(band.high, Decimal.ROUND_DOWN),
              }
            : { low: null, high: null }),
        });
    },
    async getBands(list: readonly { accountId: string; assets: readonly string[] }[]) {
      const found = new Map<string, StoredBand[]>();
      for (const { accountId, assets } of list)
        for (const asset of assets) {
          const band = exposure.get(asset)?.get(accountId);
          if (band) found.set(accountId, [...(found.get(accountId) ?? []), copy(band)]);
        }
      return found;
    },
    async triggeredAccountIds(asset: string, lowest: string, highest: string) {
      return [...(exposure.get(asset)?.values() ?? [])]
        .filter(
          ({ low, high }) =>
            low === null ||
            high === null ||
            (low !== "0" && new Decimal(low).gt(lowest)) ||
            (high !== "Infinity" && new Decimal(high).lt(highest)),
        )
        .map((band) => band.accountId);
    },
    async unbandedAccountIds(list: readonly Account[]) {
      return new Set(
        list
          .filter((a) => exposureAssets(a).some((asset) => exposure.get(asset)?.get(a.id)?.low === null))
          .map((a) => a.id),
      );
    },
    async allUnbandedAccountIds(assets: readonly string[], limit: number) {
      const entries = assets.flatMap((asset) =>
        [...(exposure.get(asset)?.values() ?? [])].filter((band) => band.low === null),
      );
      return entries.length > limit ? null : new Set(entries.map((band) => band.accountId));
    },
    async dropExposure(accountId: string, assets: readonly string[]) {
      for (const asset of assets) exposure.get(asset)?.delete(accountId);
    },

    // --- risk states ---------------------------------------------------------------------------
    async getRiskStates(ids: readonly string[]) {
      return new Map(
        ids.flatMap((id) => (states.has(id) ? [[id, copy(states.get(id) as StoredRiskState)]] : [])),
      );
    },
    async writeState(write: StateWrite) {
      if (!stateWriteHolds(write)) throw new VersionConflictError(write.state.accountId);
      applyStateWrite(write);
    },
    async writeStates(writes: readonly StateWrite[]) {
      const conflicted = new Set<string>();
      for (const write of writes)
        if (stateWriteHolds(write)) applyStateWrite(write);
        else conflicted.add(write.state.accountId);
      return conflicted;
    },
    async dueEpisodes(nowMs: number) {
      return [...states.values()]
        .filter((s) => s.episode && !s.episode.expiredNotified && s.episode.deadlineMs <= nowMs)
        .sort(byKey((s) => `${String(s.episode?.deadlineMs).padStart(15, "0")}#${s.accountId}`))
        .map((s) => s.accountId);
    },

    // --- prices --------------------------------------------------------------------------------
    async getPrices() {
      return new Map([...prices].map(([asset, { latest, held }]) => [asset, copy({ latest, held })]));
    },
    async applyPriceUpdates(updates: readonly PriceUpdateWrite[]) {
      return updates.map(applyPriceUpdate);
    },
    async putSnapshot(snapshot: PriceSnapshot) {
      snapshots.set(snapshot.id, copy(snapshot));
    },

    // --- params and reports --------------------------------------------------------------------
    async getParams() {
      return copy(params);
    },
    async getParamsVersion(version: string) {
      return copy(paramsVersions.get(version) ?? null);
    },
    async putParams(document: RiskParamsDocument) {
      params = copy(document);
      paramsVersions.set(document.version, copy(document));
    },
    async putReportSummary(summary: ReportSummary) {
      reports.push(copy(summary));
    },
    async latestReportSummary(kind: ReportSummary["kind"]) {
      const ofKind = reports
        .filter((r) => r.kind === kind)
        .sort(byKey((r) => `${String(r.createdAtMs).padStart(15, "0")}#${r.id}`));
      return copy(ofKind[ofKind.length - 1] ?? null);
    },

    // --- outbox --------------------------------------------------------------------------------
    async putNotifications(records: NotificationRecord[]) {
      for (const n of records) if (!notifications.has(n.id)) notifications.set(n.id, copy(n));
    },
    async getNotification(id: string) {
      return copy(notifications.get(id) ?? null);
    },
    async listNotifications() {
      return [...notifications.values()]
        .map(copy)
        .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
    },
    async venueNotifications(venue: string, options: { limit: number; before?: string }) {
      const newestFirst = [...notifications.values()]
        .filter((n) => n.venue === venue && (!options.before || venueOrder(n) < options.before))
        .sort(byKey(venueOrder))
        .reverse();
      const page = newestFirst.slice(0, options.limit);
      // As DynamoDB: a page that stopped at the limit has a next key, even when nothing follows.
      const last = page[page.length - 1];
      return {
        notifications: page.map(copy),
        next: page.length === options.limit && last ? venueOrder(last) : null,
      };
    },

    // --- endpoints and API keys ----------------------------------------------------------------
    async putEndpoint(endpoint: WebhookEndpoint) {
      endpoints.set(endpoint.id, copy(endpoint));
    },
    async listEndpoints(venue?: string) {
      return [...endpoints.values()]
        .filter((e) => venue === undefined || e.venue === venue)
        .sort(byKey((e) => `${e.venue}#${e.id}`))
        .map(copy);
    },
    async deleteEndpoint(venue: string, id: string) {
      if (endpoints.get(id)?.venue === venue) endpoints.delete(id);
    },
    async putApiKey(key: ApiKeyRecord) {
      apiKeys.set(key.hash, copy(key));
    },
    async getApiKey(hash: string) {
      return copy(apiKeys.get(hash) ?? null);
    },

    // --- funding ------------------------------------------------------------------------------
    async getFunding() {
      return [...funding.values()].map(copy);
    },
    async applyFunding(next: FundingRecord, previous: FundingRecord | null) {
      if (fundingEvents.has(next.eventId)) return "duplicate" as const;
      const key = `${next.venue}#${next.asset}`;
      if ((funding.get(key)?.eventId ?? null) !== (previous?.eventId ?? null)) return "conflict" as const;
      fundingEvents.add(next.eventId);
      funding.set(key, copy(next));
      return "applied" as const;
    },

    // --- depth snapshots ------------------------------------------------------------------------
    async getDepth() {
      return [...depth.values()].sort((a, b) => (a.asset < b.asset ? -1 : 1)).map(copy);
    },
    async putDepth(snapshot: DepthSnapshot) {
      const latest = depth.get(snapshot.asset)?.timestamp;
      if (latest !== undefined && Date.parse(latest) > Date.parse(snapshot.timestamp))
        return { stored: false as const, latest };
      depth.set(snapshot.asset, copy(snapshot));
      return { stored: true as const };
    },

    // --- unwatched accounts --------------------------------------------------------------------
    async listUnwatched() {
      return [...unwatched.values()].sort((a, b) => (a.accountId < b.accountId ? -1 : 1)).map(copy);
    },
    async putUnwatched(mark: UnwatchedAccount) {
      unwatched.set(mark.accountId, copy(mark));
    },
    async deleteUnwatched(accountIds: readonly string[]) {
      for (const id of accountIds) unwatched.delete(id);
    },

    // --- sweep runs ----------------------------------------------------------------------------
    async acquireSweepLease(owner: string, nowMs: number, untilMs: number) {
      if (sweepLease && sweepLease.owner !== owner && sweepLease.untilMs >= nowMs) return false;
      sweepLease = { owner, untilMs };
      return true;
    },
    async releaseSweepLease(owner: string) {
      if (sweepLease?.owner === owner) sweepLease = null;
    },
    async createSweepRun(run: SweepRun) {
      sweepRuns.set(run.id, copy(run));
    },
    async getSweepRun(id: string) {
      return copy(sweepRuns.get(id) ?? null);
    },
    async reportSweepSegment(runId: string, segment: number, totals: SweepTotals) {
      let reported = sweepSegments.get(runId);
      if (!reported) {
        reported = new Map();
        sweepSegments.set(runId, reported);
      }
      if (!reported.has(segment)) reported.set(segment, copy(totals));
      return copy(reported);
    },
    async finishSweepRun(runId: string, summary: SweepSummary) {
      const run = sweepRuns.get(runId);
      if (!run || run.summary) return false;
      run.summary = copy(summary);
      return true;
    },

    async lastFullSweep() {
      return copy(lastFull);
    },
    async recordFullSweep(record: FullSweepRecord) {
      if (!lastFull || lastFull.startedAtMs < record.startedAtMs) lastFull = copy(record);
    },

    // --- sharded job runs ----------------------------------------------------------------------
    async createJobRun(run: JobRun) {
      if (jobRuns.has(run.id)) return false;
      jobRuns.set(run.id, { run: copy(run), finished: new Map() });
      return true;
    },
    async getJobRun(id: string) {
      return copy(jobRuns.get(id)?.run ?? null);
    },
    async reportJobSegment(id: string, pass: number, segment: number) {
      const entry = jobRuns.get(id);
      if (!entry) throw new Error(`no job run ${id}`);
      let segments = entry.finished.get(pass);
      if (!segments) {
        segments = new Set();
        entry.finished.set(pass, segments);
      }
      segments.add(segment);
      return segments.size;
    },
    async advanceJobRun(id: string, next: { pass: number } | { finishedAtMs: number }) {
      const run = jobRuns.get(id)?.run;
      if (!run || run.finishedAtMs !== null) return false;
      if ("pass" in next) {
        if (run.pass >= next.pass) return false;
        run.pass = next.pass;
      } else run.finishedAtMs = next.finishedAtMs;
      return true;
    },

    // --- deliveries and lanes ------------------------------------------------------------------
    async ensureDeliveries(records: DeliveryRecord[]) {
      return records.map((record) => {
        const stored = deliveries.get(deliveryKey(record));
        if (stored) return { record: copy(stored), created: false };
        deliveries.set(deliveryKey(record), copy(record));
        return { record, created: true };
      });
    },
    async getDeliveries(notificationId: string) {
      return [...deliveries.values()]
        .filter((d) => d.notificationId === notificationId)
        .sort(byKey((d) => d.endpointId))
        .map(copy);
    },
    async updateDelivery(record: DeliveryRecord, expectedVersion: number) {
      if (deliveries.get(deliveryKey(record))?.version !== expectedVersion) return false;
      deliveries.set(deliveryKey(record), copy(record));
      return true;
    },
    async dueDeliveries(nowMs: number, limit: number) {
      return [...deliveries.values()]
        .filter((d) => d.status === "pending" && (d.nextAttemptAtMs ?? 0) <= nowMs)
        .sort(byKey((d) => `${String(d.nextAttemptAtMs ?? 0).padStart(15, "0")}#${deliveryKey(d)}`))
        .slice(0, limit)
        .map(copy);
    },
    async failedDeliveries() {
      return [...deliveries.values()]
        .filter((d) => d.status === "failed")
        .sort(byKey((d) => `${String(d.createdAtMs).padStart(15, "0")}#${deliveryKey(d)}`))
        .map(copy);
    },
    async busyDeliveries(candidates: readonly DeliveryCandidate[]) {
      const unfinished = (notificationId: string, endpointId: string) => {
        const status = deliveries.get(deliveryKey({ notificationId, endpointId }))?.status;
        return status !== "delivered" && status !== "failed";
      };
      return new Set(
        candidates
          .filter(
            ({ record: r, after }) =>
              deliveries.has(deliveryKey(r)) ||
              (r.accountId !== null && laneOf(r.endpointId, r.accountId).length > 0) ||
              (after !== null && unfinished(after, r.endpointId)),
          )
          .map(({ record }) => deliveryKey(record)),
      );
    },
    async recordDeliveries(records: readonly DeliveryRecord[]) {
      for (const record of records) deliveries.set(deliveryKey(record), copy(record));
    },
    async joinLane(endpointId: string, accountId: string, entry: LaneEntry, leaseUntilMs: number) {
      const next = laneWith(laneEntries(endpointId, accountId), { ...entry });
      if (next) setLane(endpointId, accountId, next, leaseUntilMs);
      return laneOf(endpointId, accountId);
    },
    async leaveLane(endpointId: string, accountId: string, notificationId: string, leaseUntilMs: number) {
      setLane(
        endpointId,
        accountId,
        laneEntries(endpointId, accountId).filter((e) => e.notificationId !== notificationId),
        leaseUntilMs,
      );
      return laneOf(endpointId, accountId);
    },
    async openLanes(records: readonly DeliveryRecord[], leaseMs: number) {
      const refused = new Set<string>();
      for (const record of records) {
        const accountId = record.accountId as string;
        if (laneOf(record.endpointId, accountId).length > 0 || deliveries.has(deliveryKey(record)))
          refused.add(deliveryKey(record));
        else {
          setLane(
            record.endpointId,
            accountId,
            [laneEntryOf(record)],
            (record.nextAttemptAtMs ?? 0) + leaseMs,
          );
          deliveries.set(deliveryKey(record), copy(record));
        }
      }
      return refused;
    },
    async expiredLanes(nowMs: number, limit: number) {
      return [...lanes.values()]
        .filter((lane) => lane.leaseUntilMs <= nowMs)
        .sort(
          byKey(
            (lane) => `${String(lane.leaseUntilMs).padStart(15, "0")}#${lane.endpointId}#${lane.accountId}`,
          ),
        )
        .slice(0, limit)
        .map(({ endpointId, accountId, queue, leaseUntilMs }) => ({
          endpointId,
          accountId,
          head: queue[0]?.notificationId as string,
          leaseUntilMs,
        }));
    },
    async renewLane(lane: LaneHead, leaseUntilMs: number) {
      const stored = lanes.get(`${lane.endpointId}#${lane.accountId}`);
      if (stored?.queue[0]?.notificationId !== lane.head) return false;
      stored.leaseUntilMs = leaseUntilMs;
      return true;
    },
  };
}
