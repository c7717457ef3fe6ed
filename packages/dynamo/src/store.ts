import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Account, RiskParamsDocument } from "@backing/contracts";
import {
  type ApiKeyRecord,
  type BookPage,
  type DeliveryRecord,
  deliveryKey,
  exposureAssets,
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
  type StoredPrice,
  type StoredRiskState,
  VersionConflictError,
  type WebhookEndpoint,
} from "@backing/engine";
import { decodedDocument, encodedDocument } from "./documents.ts";
import { ACCOUNT_SHARDS, EXPOSURE_SHARDS, keys, sortablePrice, unsortablePrice } from "./keys.ts";

type Item = Record<string, unknown>;
type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
const QUERY_PAGE = 500;
const BATCH_WRITES_IN_FLIGHT = 4;
const BATCH_GETS_IN_FLIGHT = 4;
/** TransactWriteItems: at most 100 actions and 4 MB; groups stop at 2 MB of item JSON, well inside. */
const TRANSACTION_ACTIONS = 100;
const TRANSACTION_BYTES = 2_000_000;
const TRANSACTIONS_IN_FLIGHT = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt: number) => sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2));

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** An outbox item: the notification, indexed by venue and time, pending delivery. */
function notificationItem(n: NotificationRecord): Item {
  return {
    ...keys.notification(n.id),
    ...keys.notificationByVenue(n.venue, n.createdAtMs, n.id),
    type: "notification",
    notification: encodedDocument(n),
    delivery: "pending",
  };
}

/** A delivery item: in the due index while pending, in the failed index once parked. */
function deliveryItem(d: DeliveryRecord): Item {
  const index =
    d.status === "pending"
      ? keys.deliveryIndex("DUE", d.nextAttemptAtMs ?? 0, d.notificationId, d.endpointId)
      : d.status === "failed"
        ? keys.deliveryIndex("FAILED", d.createdAtMs, d.notificationId, d.endpointId)
        : {};
  return { ...keys.delivery(d.notificationId, d.endpointId), ...index, type: "delivery", delivery: d };
}

const assetOf = (exposureItem: Item) => (exposureItem.pk as string).split("#")[1] as string;

/**
 * An exposure item's band as indexed (edges rounded toward the inside; "~" for none, or "!" in
 * gsi2 on items written before; an edge left out of its index is one no price crosses).
 */
function bandOfItem(item: Item): StoredBand {
  const low = item.gsi1sk as string | undefined;
  const high = item.gsi2sk as string | undefined;
  if (low === "~" || high === "!")
    return { accountId: item.accountId as string, asset: assetOf(item), low: null, high: null };
  return {
    accountId: item.accountId as string,
    asset: assetOf(item),
    low: low === undefined ? "0" : unsortablePrice(low),
    high: high === undefined ? "Infinity" : unsortablePrice(high),
  };
}

/** DynamoDB orders string keys by their UTF-8 bytes (JavaScript's < compares UTF-16 units). */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

const isConditionFailure = (error: unknown) => (error as Error).name === "ConditionalCheckFailedException";

/**
 * EngineStore over one DynamoDB table (see table.ts and keys.ts). Decimals stay strings; batch calls
 * respect the service limits and retry unprocessed items with backoff; conditional failures become
 * VersionConflictError.
 */
export class DynamoEngineStore implements Store {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** BatchGet in chunks of 100, a few in flight at once, retrying unprocessed keys with backoff. */
  private async batchGet(keyList: Item[], { consistent = false } = {}): Promise<Item[]> {
    const items: Item[] = [];
    const all = chunks(keyList, BATCH_GET_LIMIT);
    let next = 0;
    const worker = async () => {
      while (next < all.length) {
        let pending = all[next++] as Item[];
        for (let attempt = 0; pending.length > 0; attempt++) {
          const response = await this.documents.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: consistent } },
            }),
          );
          items.push(...(response.Responses?.[this.tableName] ?? []));
          pending = (response.UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined) ?? [];
          if (pending.length > 0) await backoff(attempt);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_GETS_IN_FLIGHT, all.length) }, worker));
    return items;
  }

  /** BatchWrite in chunks of 25, a few in flight at once, retrying unprocessed items with backoff. */
  private async batchPut(items: Item[]): Promise<void> {
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  private async batchDelete(keyList: Item[]): Promise<void> {
    await this.batchWrite(keyList.map((Key) => ({ DeleteRequest: { Key } })));
  }

  private async batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    const all = chunks(requests, BATCH_WRITE_LIMIT);
    let next = 0;
    const worker = async () => {
      while (next < all.length) {
        let pending = all[next++] as Record<string, unknown>[];
        for (let attempt = 0; pending.length > 0; attempt++) {
          const response = await this.documents.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
          );
          pending = (response.UnprocessedItems?.[this.tableName] as typeof pending | undefined) ?? [];
          if (pending.length > 0) await backoff(attempt);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_WRITES_IN_FLIGHT, all.length) }, worker));
  }

  /**
   * Every page of a Query on the table (pk/sk) or an index (gsi1pk/gsi1sk, gsi2pk/gsi2sk): the
   * partition, optionally a condition on the sort key, optionally a projection; pages of
   * QUERY_PAGE items (or fewer, up to `limit` items in all).
   */
  private async *queryPages(query: {
    index?: "gsi1" | "gsi2";
    partition: string;
    sort?: { op: "<" | "<=" | "=" | ">" | "begins_with"; value: string };
    projection?: string;
    limit?: number;
    pageSize?: number;
  }): AsyncIterable<Item[]> {
    const [pk, sk] = query.index ? [`${query.index}pk`, `${query.index}sk`] : ["pk", "sk"];
    const sort = query.sort
      ? query.sort.op === "begins_with"
        ? ` AND begins_with(${sk}, :sk)`
        : ` AND ${sk} ${query.sort.op} :sk`
      : "";
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    let start: Record<string, unknown> | undefined;
    do {
      const response = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(query.index ? { IndexName: query.index } : {}),
          KeyConditionExpression: `${pk} = :pk${sort}`,
          ExpressionAttributeValues: {
            ":pk": query.partition,
            ...(query.sort ? { ":sk": query.sort.value } : {}),
          },
          ...(query.projection ? { ProjectionExpression: query.projection } : {}),
          Limit: Math.min(query.pageSize ?? QUERY_PAGE, remaining),
          ExclusiveStartKey: start,
        }),
      );
      const items = response.Items ?? [];
      remaining -= items.length;
      yield items;
      start = response.LastEvaluatedKey;
    } while (start && remaining > 0);
  }

  private async queryAll(partition: string, extra: Partial<{ upTo: string }> = {}): Promise<Item[]> {
    const items: Item[] = [];
    for await (const page of this.queryPages({
      partition,
      ...(extra.upTo ? { sort: { op: "<=" as const, value: extra.upTo } } : {}),
    }))
      items.push(...page);
    return items;
  }

  async putAccounts(accounts: Account[]): Promise<void> {
    const items: Item[] = [];
    for (const account of accounts) {
      items.push({
        ...keys.account(account.id),
        ...keys.accountIndex(account.id),
        type: "account",
        account: encodedDocument(account),
        version: 1,
      });
      // No band yet: the first tick on any of its assets evaluates it.
      for (const asset of exposureAssets(account))
        items.push({
          ...keys.exposure(asset, account.id),
          ...keys.band(asset, account.id, null, null),
          type: "exposure",
          accountId: account.id,
        });
    }
    await this.batchPut(items);
  }

  async getAccounts(ids: readonly string[]): Promise<Map<string, StoredAccount>> {
    const items = await this.batchGet(ids.map((id) => keys.account(id)));
    return new Map(
      items.map((item) => {
        const account = decodedDocument<Account>(item.account);
        return [account.id, { account, version: item.version as number }];
      }),
    );
  }

  async exposedAccountIds(asset: string): Promise<string[]> {
    const shards = await Promise.all(
      Array.from({ length: EXPOSURE_SHARDS }, (_, shard) =>
        this.queryAll(keys.exposurePartition(asset, shard)),
      ),
    );
    return shards.flat().map((item) => item.accountId as string);
  }

  async putBands(bands: readonly StoredBand[]): Promise<void> {
    await this.batchPut(
      bands.map((b) => ({
        ...keys.exposure(b.asset, b.accountId),
        ...keys.band(b.asset, b.accountId, b.low, b.high),
        type: "exposure",
        accountId: b.accountId,
      })),
    );
  }

  async getBands(
    accounts: readonly { accountId: string; assets: readonly string[] }[],
  ): Promise<Map<string, StoredBand[]>> {
    const items = await this.batchGet(
      accounts.flatMap(({ accountId, assets }) => assets.map((asset) => keys.exposure(asset, accountId))),
    );
    const bands = new Map<string, StoredBand[]>();
    for (const item of items) {
      const band = bandOfItem(item);
      bands.set(band.accountId, [...(bands.get(band.accountId) ?? []), band]);
    }
    return bands;
  }

  async triggeredAccountIds(asset: string, lowest: string, highest: string): Promise<string[]> {
    const query = async (index: "gsi1" | "gsi2", partition: string, op: "<" | ">", value: string) => {
      const ids: string[] = [];
      for await (const page of this.queryPages({
        index,
        partition,
        sort: { op, value },
        projection: "accountId",
      }))
        for (const item of page) ids.push(item.accountId as string);
      return ids;
    };
    const low = sortablePrice(lowest);
    const high = sortablePrice(highest);
    const found = await Promise.all(
      Array.from({ length: EXPOSURE_SHARDS }, (_, shard) => [
        // Fell below the band: low edge above the new lowest price.
        query("gsi1", keys.bandLowPartition(asset, shard), ">", low),
        // Rose above it: high edge below the new highest price.
        query("gsi2", keys.bandHighPartition(asset, shard), "<", high),
      ]).flat(),
    );
    return [...new Set(found.flat())];
  }

  /**
   * Of these accounts, those with a "no band" entry: from the index's no-band entries when there
   * are few in the whole book, else by reading the accounts' exposure items (a fresh import).
   */
  async unbandedAccountIds(accounts: readonly Account[]): Promise<Set<string>> {
    const assets = [...new Set(accounts.flatMap(exposureAssets))];
    const all = await this.allUnbandedAccountIds(assets, Math.max(1_000, 2 * accounts.length));
    if (!all) return this.unbandedByItems(accounts);
    return new Set(accounts.filter((a) => all.has(a.id)).map((a) => a.id));
  }

  async allUnbandedAccountIds(assets: readonly string[], limit: number): Promise<Set<string> | null> {
    const unbanded = new Set<string>();
    let seen = 0;
    let overflow = false;
    const partitions = assets.flatMap((asset) =>
      Array.from({ length: EXPOSURE_SHARDS }, (_, shard) => keys.bandLowPartition(asset, shard)),
    );
    await Promise.all(
      partitions.map(async (partition) => {
        const pages = this.queryPages({
          index: "gsi1",
          partition,
          sort: { op: "=", value: "~" },
          projection: "accountId",
        });
        for await (const page of pages) {
          for (const item of page) unbanded.add(item.accountId as string);
          seen += page.length;
          overflow ||= seen > limit;
          if (overflow) break;
        }
      }),
    );
    return overflow ? null : unbanded;
  }

  private async unbandedByItems(accounts: readonly Account[]): Promise<Set<string>> {
    const items = await this.batchGet(
      accounts.flatMap((account) => exposureAssets(account).map((asset) => keys.exposure(asset, account.id))),
    );
    const unbanded = new Set<string>();
    for (const item of items) if (item.gsi1sk === "~") unbanded.add(item.accountId as string);
    return unbanded;
  }

  async getRiskStates(ids: readonly string[]): Promise<Map<string, StoredRiskState>> {
    const items = await this.batchGet(ids.map((id) => keys.riskState(id)));
    return new Map(
      items.map((item) => [item.accountId as string, decodedDocument<StoredRiskState>(item.state)]),
    );
  }

  async getPrices(): Promise<Map<string, PriceRecord>> {
    const items = await this.queryAll(keys.pricesPartition);
    return new Map(
      items.map((item) => [
        item.asset as string,
        { latest: (item.latest as StoredPrice) ?? null, held: (item.held as StoredPrice) ?? null },
      ]),
    );
  }

  async applyPriceUpdates(updates: readonly PriceUpdateWrite[]): Promise<PriceWriteResult[]> {
    // One transaction for the tick's assets; any that fails is sent again on its own, which tells
    // a duplicate from a conflict.
    const refused =
      updates.length > 1
        ? await this.transactEach(
            updates.map((write) => ({ key: write.update.asset, items: this.priceUpdateItems(write) })),
          )
        : new Set(updates.map((write) => write.update.asset));
    return Promise.all(
      updates.map((write) =>
        refused.has(write.update.asset) ? this.applyPriceUpdate(write) : ("applied" as const),
      ),
    );
  }

  /** The event marker (single use) and the record, conditional on the revision it was computed from. */
  private priceUpdateItems({ update, action, previous }: PriceUpdateWrite): TransactItem[] {
    const record: PriceRecord =
      action === "accept" ? { latest: update, held: null } : { latest: previous.latest, held: update };
    const item = {
      ...keys.price(update.asset),
      type: "price",
      asset: update.asset,
      ...record,
      revision: update.eventId,
    };
    const previousRevision = previous.held?.eventId ?? previous.latest?.eventId;
    return [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...keys.priceEvent(update.eventId), type: "price-event", asset: update.asset, action },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: item,
          ...(previousRevision
            ? {
                ConditionExpression: "revision = :revision",
                ExpressionAttributeValues: { ":revision": previousRevision },
              }
            : { ConditionExpression: "attribute_not_exists(pk)" }),
        },
      },
    ];
  }

  private async applyPriceUpdate(write: PriceUpdateWrite): Promise<PriceWriteResult> {
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: this.priceUpdateItems(write) }));
      return "applied";
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [marker] = error.CancellationReasons ?? [];
      return marker?.Code === "ConditionalCheckFailed" ? "duplicate" : "conflict";
    }
  }

  async putSnapshot(snapshot: PriceSnapshot): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.snapshot(snapshot.id), type: "snapshot", snapshot },
      }),
    );
  }

  async writeState(write: StateWrite): Promise<void> {
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: this.stateWriteItems(write) }));
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw new VersionConflictError(write.state.accountId, { cause: error });
      throw error;
    }
  }

  /** Many accounts' state writes grouped in transactions; each account's state and notifications together. */
  async writeStates(writes: readonly StateWrite[]): Promise<Set<string>> {
    return this.transactEach(
      writes.map((write) => ({ key: write.state.accountId, items: this.stateWriteItems(write) })),
    );
  }

  /**
   * Many entries, each a few items that must be written all-or-nothing, in as few transactions as
   * the limits allow (100 actions, 4 MB): on DynamoDB Local 2.5× faster than a transaction per
   * entry, and in AWS one request (one share of SDK CPU) instead of dozens. When a transaction is
   * cancelled, the entries whose items failed (a condition, or a conflict with another
   * transaction) are left out and their keys returned, and the rest are sent again.
   */
  private async transactEach(
    entries: readonly { key: string; items: TransactItem[] }[],
  ): Promise<Set<string>> {
    const failedKeys = new Set<string>();
    type Entry = (typeof entries)[number];
    const groups: Entry[][] = [[]];
    let actions = 0;
    let bytes = 0;
    for (const entry of entries) {
      const size = entry.items.reduce((sum, item) => sum + JSON.stringify(item).length, 0);
      if (actions + entry.items.length > TRANSACTION_ACTIONS || bytes + size > TRANSACTION_BYTES) {
        groups.push([]);
        actions = 0;
        bytes = 0;
      }
      (groups[groups.length - 1] as Entry[]).push(entry);
      actions += entry.items.length;
      bytes += size;
    }
    let next = 0;
    const worker = async () => {
      while (next < groups.length) {
        let pending = groups[next++] as Entry[];
        while (pending.length > 0) {
          try {
            await this.documents.send(
              new TransactWriteCommand({ TransactItems: pending.flatMap(({ items }) => items) }),
            );
            break;
          } catch (error) {
            if (!(error instanceof TransactionCanceledException)) throw error;
            // One reason per action, in order; "None" for the actions that did not fail.
            const reasons = error.CancellationReasons ?? [];
            let at = 0;
            const failed = new Set(
              pending.filter(({ items }) => {
                const own = reasons.slice(at, at + items.length);
                at += items.length;
                return own.some((reason) => reason.Code !== undefined && reason.Code !== "None");
              }),
            );
            // No reason given: none can be told apart, so all go back to their callers.
            const left = failed.size > 0 ? pending.filter((entry) => !failed.has(entry)) : [];
            for (const entry of pending) if (!left.includes(entry)) failedKeys.add(entry.key);
            pending = left;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(TRANSACTIONS_IN_FLIGHT, groups.length) }, worker));
    return failedKeys;
  }

  /** An account's state put (conditional on the version read) and its notifications' puts. */
  private stateWriteItems({ state, previous, notifications }: StateWrite): TransactItem[] {
    const expectedVersion = previous?.version ?? null;
    return [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.riskState(state.accountId),
            // Indexed while its episode is open and not yet expired (the expiry job's read).
            ...(state.episode && !state.episode.expiredNotified
              ? keys.openEpisode(state.episode.deadlineMs, state.accountId)
              : {}),
            type: "risk-state",
            accountId: state.accountId,
            state: encodedDocument(state),
            version: state.version,
          },
          ...(expectedVersion === null
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : {
                ConditionExpression: "version = :expected",
                ExpressionAttributeValues: { ":expected": expectedVersion },
              }),
        },
      },
      ...notifications.map(
        (n): TransactItem => ({
          Put: {
            TableName: this.tableName,
            Item: notificationItem(n),
            ConditionExpression: "attribute_not_exists(pk)",
          },
        }),
      ),
    ];
  }

  async dueEpisodes(nowMs: number): Promise<string[]> {
    const ids: string[] = [];
    const pages = this.queryPages({
      index: "gsi1",
      partition: keys.openEpisode(0, "").gsi1pk,
      sort: { op: "<=", value: `${String(nowMs).padStart(15, "0")}#\uffff` },
    });
    for await (const page of pages)
      for (const item of page) {
        const episode = decodedDocument<StoredRiskState>(item.state).episode;
        if (episode && !episode.expiredNotified && episode.deadlineMs <= nowMs)
          ids.push(item.accountId as string);
      }
    return ids;
  }

  async getParams(): Promise<RiskParamsDocument | null> {
    const response = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keys.params }),
    );
    return response.Item ? (JSON.parse(response.Item.document as string) as RiskParamsDocument) : null;
  }

  /** The current set, and the same document kept by version so any evaluation can be re-run later. */
  async putParams(document: RiskParamsDocument): Promise<void> {
    const body = JSON.stringify(document);
    await this.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.tableName, Item: { ...keys.params, type: "params", document: body } } },
          {
            Put: {
              TableName: this.tableName,
              Item: { ...keys.paramsVersion(document.version), type: "params-version", document: body },
            },
          },
        ],
      }),
    );
  }

  async getParamsVersion(version: string): Promise<RiskParamsDocument | null> {
    const response = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keys.paramsVersion(version) }),
    );
    return response.Item ? (JSON.parse(response.Item.document as string) as RiskParamsDocument) : null;
  }

  /** Pages of the items of one type, by Scan (small listings: notifications in tests, all endpoints). */
  private async *scanType(type: string, pageSize?: number): AsyncIterable<Item[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const response = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: "#t = :t",
          ExpressionAttributeNames: { "#t": "type" },
          ExpressionAttributeValues: { ":t": type },
          ...(pageSize ? { Limit: pageSize } : {}),
          ExclusiveStartKey: start,
        }),
      );
      if (response.Items?.length) yield response.Items;
      start = response.LastEvaluatedKey;
    } while (start);
  }

  /** The whole book a page at a time, shard after shard of the sparse account index (no Scan). */
  async *scanAccounts(pageSize: number): AsyncIterable<Account[]> {
    for (let shard = 0; shard < ACCOUNT_SHARDS; shard++)
      for await (const page of this.queryPages({
        index: "gsi2",
        partition: keys.accountsPartition(shard),
        pageSize,
      }))
        if (page.length > 0) yield page.map((item) => decodedDocument<Account>(item.account));
  }

  /**
   * The whole book with the accounts' risk states, a page of accounts at a time: per shard, the
   * account index and the shard's states are both sorted by account id, so the states of a page
   * are the ones up to its last id (a merge join; at most one page of states held ahead).
   */
  async *scanBook(pageSize: number, segment = { index: 0, count: 1 }): AsyncIterable<BookPage> {
    for (let shard = segment.index; shard < ACCOUNT_SHARDS; shard += segment.count) {
      const statePages = this.queryPages({ partition: keys.riskStatesPartition(shard), pageSize })[
        Symbol.asyncIterator
      ]();
      let ahead: Item[] = [];
      let statesDone = false;
      for await (const page of this.queryPages({
        index: "gsi2",
        partition: keys.accountsPartition(shard),
        pageSize,
      })) {
        if (page.length === 0) continue;
        const lastId = (page[page.length - 1] as Item).gsi2sk as string;
        while (
          !statesDone &&
          (ahead.length === 0 || byteOrder(ahead[ahead.length - 1]?.sk as string, lastId) < 0)
        ) {
          const read = await statePages.next();
          if (read.done) statesDone = true;
          else ahead.push(...read.value);
        }
        const states = new Map<string, StoredRiskState>();
        let used = 0;
        while (used < ahead.length && byteOrder(ahead[used]?.sk as string, lastId) <= 0) {
          const item = ahead[used++] as Item;
          states.set(item.accountId as string, decodedDocument<StoredRiskState>(item.state));
        }
        ahead = ahead.slice(used);
        yield { accounts: page.map((item) => decodedDocument<Account>(item.account)), states };
      }
    }
  }

  async putReportSummary(summary: ReportSummary): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.report(summary.kind, summary.createdAtMs, summary.id), type: "report", summary },
      }),
    );
  }

  async latestReportSummary(kind: ReportSummary["kind"]): Promise<ReportSummary | null> {
    const response = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": keys.report(kind, 0, "").pk },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return (response.Items?.[0]?.summary as ReportSummary | undefined) ?? null;
  }

  async putNotifications(records: NotificationRecord[]): Promise<void> {
    for (const n of records) {
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: notificationItem(n),
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (error) {
        // Already in the outbox (a re-run of the same report): nothing to do.
        if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
      }
    }
  }

  /** A venue's notifications, newest first, a page at a time (gsi1 by venue and time). */
  async venueNotifications(
    venue: string,
    options: { limit: number; before?: string },
  ): Promise<{ notifications: NotificationRecord[]; next: string | null }> {
    const response = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: options.before ? "gsi1pk = :pk AND gsi1sk < :before" : "gsi1pk = :pk",
        ExpressionAttributeValues: {
          ":pk": keys.notificationByVenue(venue, 0, "").gsi1pk,
          ...(options.before ? { ":before": options.before } : {}),
        },
        ScanIndexForward: false,
        Limit: options.limit,
      }),
    );
    const items = response.Items ?? [];
    const last = response.LastEvaluatedKey?.gsi1sk as string | undefined;
    return {
      notifications: items.map((item) => decodedDocument<NotificationRecord>(item.notification)),
      next: last ?? null,
    };
  }

  /** An account, its risk state and its exposure entries (bands); its notifications stay. */
  async deleteAccount(account: Account): Promise<void> {
    await this.batchDelete([
      keys.account(account.id),
      keys.riskState(account.id),
      ...exposureAssets(account).map((asset) => keys.exposure(asset, account.id)),
    ]);
  }

  async dropExposure(accountId: string, assets: readonly string[]): Promise<void> {
    await this.batchDelete(assets.map((asset) => keys.exposure(asset, accountId)));
  }

  async deleteEndpoint(venue: string, id: string): Promise<void> {
    await this.documents.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.endpoint(venue, id) }),
    );
  }

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.apiKey(key.hash), type: "api-key", key },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  async getApiKey(hash: string): Promise<ApiKeyRecord | null> {
    const response = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiKey(hash) }),
    );
    return (response.Item?.key as ApiKeyRecord | undefined) ?? null;
  }

  async listNotifications(): Promise<NotificationRecord[]> {
    // Small tables only (tests, demo summary): notifications are also indexed by venue in gsi1.
    const notifications: NotificationRecord[] = [];
    for await (const items of this.scanType("notification")) {
      for (const item of items) notifications.push(decodedDocument<NotificationRecord>(item.notification));
    }
    return notifications.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  // --- webhooks -------------------------------------------------------------------------------

  async putEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.endpoint(endpoint.venue, endpoint.id), type: "endpoint", endpoint },
      }),
    );
  }

  async listEndpoints(venue?: string): Promise<WebhookEndpoint[]> {
    const endpoints: WebhookEndpoint[] = [];
    if (venue === undefined) {
      for await (const items of this.scanType("endpoint"))
        for (const item of items) endpoints.push(item.endpoint as WebhookEndpoint);
      return endpoints;
    }
    const pages = this.queryPages({
      partition: keys.endpoint(venue, "").pk,
      sort: { op: "begins_with", value: "ENDPOINT#" },
    });
    for await (const page of pages) for (const item of page) endpoints.push(item.endpoint as WebhookEndpoint);
    return endpoints;
  }

  async getNotification(id: string): Promise<NotificationRecord | null> {
    const response = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keys.notification(id), ConsistentRead: true }),
    );
    return response.Item ? decodedDocument<NotificationRecord>(response.Item.notification) : null;
  }

  async ensureDeliveries(records: DeliveryRecord[]): Promise<{ record: DeliveryRecord; created: boolean }[]> {
    const created = await Promise.all(
      records.map(async (record) => {
        try {
          await this.documents.send(
            new PutCommand({
              TableName: this.tableName,
              Item: deliveryItem(record),
              ConditionExpression: "attribute_not_exists(pk)",
            }),
          );
          return true;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          return false;
        }
      }),
    );
    if (created.every(Boolean)) return records.map((record) => ({ record, created: true }));
    // A replay: some already exist; return them as stored.
    const stored = new Map(
      (await this.getDeliveries(records[0]?.notificationId as string)).map((d) => [d.endpointId, d]),
    );
    return records.map((r, i) => ({
      record: created[i] ? r : (stored.get(r.endpointId) ?? r),
      created: !!created[i],
    }));
  }

  async getDeliveries(notificationId: string): Promise<DeliveryRecord[]> {
    const response = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues: { ":pk": keys.notification(notificationId).pk, ":sk": "DELIVERY#" },
        ConsistentRead: true,
      }),
    );
    return (response.Items ?? []).map((item) => item.delivery as DeliveryRecord);
  }

  async updateDelivery(record: DeliveryRecord, expectedVersion: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: deliveryItem(record),
          ConditionExpression: "#d.#v = :v",
          ExpressionAttributeNames: { "#d": "delivery", "#v": "version" },
          ExpressionAttributeValues: { ":v": expectedVersion },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async deliveryIndexQuery(state: "DUE" | "FAILED", upTo: string | null, limit: number) {
    const deliveries: DeliveryRecord[] = [];
    const pages = this.queryPages({
      index: "gsi1",
      partition: `DELIVERIES#${state}`,
      ...(upTo ? { sort: { op: "<=" as const, value: upTo } } : {}),
      limit,
    });
    for await (const page of pages) for (const item of page) deliveries.push(item.delivery as DeliveryRecord);
    return deliveries;
  }

  async dueDeliveries(nowMs: number, limit: number): Promise<DeliveryRecord[]> {
    // The index is eventually consistent: a delivery may show as due just after it was sent; the
    // conditional update of the attempt catches that.
    const due = await this.deliveryIndexQuery("DUE", `${String(nowMs).padStart(15, "0")}#~`, limit);
    return due.filter((d) => d.status === "pending");
  }

  async failedDeliveries(): Promise<DeliveryRecord[]> {
    return this.deliveryIndexQuery("FAILED", null, Number.MAX_SAFE_INTEGER);
  }

  private async updateLane(
    endpointId: string,
    accountId: string,
    change: (queue: string[]) => string[] | null,
  ): Promise<string[]> {
    const key = keys.lane(endpointId, accountId);
    for (let attempt = 0; ; attempt++) {
      const response = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const queue = (response.Item?.queue as string[] | undefined) ?? [];
      const version = (response.Item?.version as number | undefined) ?? 0;
      const next = change(queue);
      if (next === null) return queue;
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key, type: "lane", queue: next, version: version + 1 },
            ...(version === 0
              ? { ConditionExpression: "attribute_not_exists(pk)" }
              : {
                  ConditionExpression: "#v = :v",
                  ExpressionAttributeNames: { "#v": "version" },
                  ExpressionAttributeValues: { ":v": version },
                }),
          }),
        );
        return next;
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= 20) throw error;
        await backoff(attempt);
      }
    }
  }

  async openLanes(records: readonly DeliveryRecord[]): Promise<Set<string>> {
    return this.transactEach(
      records.map((record) => ({
        key: deliveryKey(record),
        items: [
          {
            Update: {
              TableName: this.tableName,
              Key: keys.lane(record.endpointId, record.accountId as string),
              UpdateExpression: "SET #q = :ids, #t = :lane ADD #v :one",
              ConditionExpression: "attribute_not_exists(#q) OR size(#q) = :zero",
              ExpressionAttributeNames: { "#q": "queue", "#t": "type", "#v": "version" },
              ExpressionAttributeValues: {
                ":ids": [record.notificationId],
                ":lane": "lane",
                ":one": 1,
                ":zero": 0,
              },
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: deliveryItem(record),
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        ],
      })),
    );
  }

  async busyDeliveries(records: readonly DeliveryRecord[]): Promise<Set<string>> {
    const lanes = new Map<string, Item>();
    for (const record of records)
      if (record.accountId !== null) {
        const key = keys.lane(record.endpointId, record.accountId);
        lanes.set(key.pk, key);
      }
    const found = await this.batchGet(
      [...lanes.values(), ...records.map((r) => keys.delivery(r.notificationId, r.endpointId))],
      { consistent: true },
    );
    const busy = new Set<string>();
    for (const item of found)
      if (item.type === "delivery") busy.add(deliveryKey(item.delivery as DeliveryRecord));
      else if (((item.queue as string[] | undefined) ?? []).length > 0) busy.add(item.pk as string);
    return new Set(
      records
        .filter(
          (r) =>
            busy.has(deliveryKey(r)) ||
            (r.accountId !== null && busy.has(keys.lane(r.endpointId, r.accountId).pk)),
        )
        .map(deliveryKey),
    );
  }

  async recordDeliveries(records: readonly DeliveryRecord[]): Promise<void> {
    await this.batchPut(records.map(deliveryItem));
  }

  /** One conditional UpdateItem: append unless already in the lane (then read it). */
  async joinLane(endpointId: string, accountId: string, notificationId: string): Promise<string[]> {
    try {
      const response = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.lane(endpointId, accountId),
          UpdateExpression: "SET #q = list_append(if_not_exists(#q, :empty), :ids), #t = :lane ADD #v :one",
          ConditionExpression: "attribute_not_exists(#q) OR NOT contains(#q, :id)",
          ExpressionAttributeNames: { "#q": "queue", "#t": "type", "#v": "version" },
          ExpressionAttributeValues: {
            ":empty": [],
            ":ids": [notificationId],
            ":id": notificationId,
            ":one": 1,
            ":lane": "lane",
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return (response.Attributes?.queue as string[] | undefined) ?? [];
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.updateLane(endpointId, accountId, () => null);
    }
  }

  /** The head leaves in one conditional UpdateItem; anyone else (rare: a replay) by read and rewrite. */
  async leaveLane(endpointId: string, accountId: string, notificationId: string): Promise<string[]> {
    try {
      const response = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.lane(endpointId, accountId),
          UpdateExpression: "REMOVE #q[0] ADD #v :one",
          ConditionExpression: "#q[0] = :id",
          ExpressionAttributeNames: { "#q": "queue", "#v": "version" },
          ExpressionAttributeValues: { ":id": notificationId, ":one": 1 },
          ReturnValues: "ALL_NEW",
        }),
      );
      return (response.Attributes?.queue as string[] | undefined) ?? [];
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.updateLane(endpointId, accountId, (queue) =>
        queue.includes(notificationId) ? queue.filter((id) => id !== notificationId) : null,
      );
    }
  }
}
