import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { forEachConcurrently } from "@backing/engine";

export type Item = Record<string, unknown>;
export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

export const BATCH_GET_LIMIT = 100;
export const BATCH_WRITE_LIMIT = 25;
export const QUERY_PAGE = 500;
export const BATCH_WRITES_IN_FLIGHT = 4;
export const BATCH_GETS_IN_FLIGHT = 4;
/** TransactWriteItems: at most 100 actions and 4 MB; groups stop at 2 MB of item JSON, well inside. */
export const TRANSACTION_ACTIONS = 100;
export const TRANSACTION_BYTES = 2_000_000;
export const TRANSACTIONS_IN_FLIGHT = 4;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const backoff = (attempt: number) =>
  sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2));

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** DynamoDB orders string keys by their UTF-8 bytes (JavaScript's < compares UTF-16 units). */
export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export const isConditionFailure = (error: unknown) =>
  (error as Error).name === "ConditionalCheckFailedException";

/**
 * One DynamoDB table as the repositories use it: batch reads and writes within the service limits
 * (unprocessed items retried with backoff), paged queries and scans, and grouped transactions.
 */
export class TableClient {
  constructor(
    readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** BatchGet in chunks of 100, a few in flight at once, retrying unprocessed keys with backoff. */
  async batchGet(keyList: Item[], { consistent = false } = {}): Promise<Item[]> {
    const items: Item[] = [];
    const all = chunks(keyList, BATCH_GET_LIMIT);
    await forEachConcurrently(all, BATCH_GETS_IN_FLIGHT, async (chunk) => {
      let pending = chunk;
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
    });
    return items;
  }

  /** BatchWrite in chunks of 25, a few in flight at once, retrying unprocessed items with backoff. */
  async batchPut(items: Item[]): Promise<void> {
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  async batchDelete(keyList: Item[]): Promise<void> {
    await this.batchWrite(keyList.map((Key) => ({ DeleteRequest: { Key } })));
  }

  async batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    await forEachConcurrently(chunks(requests, BATCH_WRITE_LIMIT), BATCH_WRITES_IN_FLIGHT, async (chunk) => {
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        const response = await this.documents.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = (response.UnprocessedItems?.[this.tableName] as typeof pending | undefined) ?? [];
        if (pending.length > 0) await backoff(attempt);
      }
    });
  }

  /**
   * Every page of a Query on the table (pk/sk) or an index (gsi1pk/gsi1sk, gsi2pk/gsi2sk): the
   * partition, optionally a condition on the sort key, optionally a projection; pages of
   * QUERY_PAGE items (or fewer, up to `limit` items in all).
   */
  async *queryPages(query: {
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

  async queryAll(partition: string, extra: Partial<{ upTo: string }> = {}): Promise<Item[]> {
    const items: Item[] = [];
    for await (const page of this.queryPages({
      partition,
      ...(extra.upTo ? { sort: { op: "<=" as const, value: extra.upTo } } : {}),
    }))
      items.push(...page);
    return items;
  }

  /**
   * Many entries, each a few items that must be written all-or-nothing, in as few transactions as
   * the limits allow (100 actions, 4 MB): on DynamoDB Local 2.5× faster than a transaction per
   * entry, and in AWS one request (one share of SDK CPU) instead of dozens. When a transaction is
   * cancelled, the entries whose items failed (a condition, or a conflict with another
   * transaction) are left out and their keys returned, and the rest are sent again.
   */
  async transactEach(entries: readonly { key: string; items: TransactItem[] }[]): Promise<Set<string>> {
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
    await forEachConcurrently(groups, TRANSACTIONS_IN_FLIGHT, async (group) => {
      let pending = group;
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
    });
    return failedKeys;
  }

  /** Pages of the items of one type, by Scan (small listings: notifications in tests, all endpoints). */
  async *scanType(type: string, pageSize?: number): AsyncIterable<Item[]> {
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
}
