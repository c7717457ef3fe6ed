/**
 * Request units as DynamoDB bills them (DESIGN §4.1, "Cost"): every call asks for its
 * `ConsumedCapacity` and the meter adds it to the job the call was made for. The job is carried by
 * AsyncLocalStorage, so jobs running at once (a tick and the stream's deliveries) count apart.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ConsumedCapacity } from "@aws-sdk/client-dynamodb";

export interface CapacityCount {
  /** Read request units (a strongly consistent read of 4 KB is one; eventually consistent, half). */
  readUnits: number;
  /** Write request units (1 KB each; a transactional write counts twice). */
  writeUnits: number;
  requests: number;
}

const READS = new Set([
  "GetItemCommand",
  "BatchGetItemCommand",
  "QueryCommand",
  "ScanCommand",
  "TransactGetItemsCommand",
]);
const WRITES = new Set([
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "BatchWriteItemCommand",
  "TransactWriteItemsCommand",
]);

export class CapacityMeter {
  private readonly counts = new Map<string, CapacityCount>();
  private readonly job = new AsyncLocalStorage<string>();

  /** Runs `work` with every DynamoDB call it makes (and every call those start) counted under `job`. */
  run<T>(job: string, work: () => Promise<T>): Promise<T> {
    return this.job.run(job, work);
  }

  record(
    command: string,
    consumed: ConsumedCapacity | ConsumedCapacity[] | undefined,
    input?: Record<string, unknown>,
  ): void {
    const job = this.job.getStore() ?? "unattributed";
    const count = this.counts.get(job) ?? { readUnits: 0, writeUnits: 0, requests: 0 };
    const units =
      command === "TransactWriteItemsCommand" && input
        ? transactionWriteUnits(input)
        : (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
            (sum, c) => sum + (c.CapacityUnits ?? 0),
            0,
          );
    if (READS.has(command)) count.readUnits += units;
    else count.writeUnits += units;
    count.requests++;
    this.counts.set(job, count);
  }

  /** Counts so far by job. */
  totals(): Record<string, CapacityCount> {
    return Object.fromEntries([...this.counts].map(([job, c]) => [job, { ...c }]));
  }

  reset(): void {
    this.counts.clear();
  }
}

/**
 * What AWS charges a TransactWriteItems: 2 write units per KB of each item put, updated or deleted
 * (a condition check, 2 per KB of the item checked, is counted as 1 KB). DynamoDB Local answers 2
 * for any transaction (measured: 2 items or 6, the same 2), so its figure is not used; the size of
 * an update is its key and values, of a delete its key (under the item's real size: the bench says so).
 */
export function transactionWriteUnits(input: Record<string, unknown>): number {
  const kb = (value: unknown) =>
    Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(value ?? {})) / 1024));
  const items = (input.TransactItems ?? []) as Record<string, Record<string, unknown>>[];
  return items.reduce((sum, item) => {
    if (item.Put) return sum + 2 * kb(item.Put.Item);
    if (item.Update) return sum + 2 * kb([item.Update.Key, item.Update.ExpressionAttributeValues]);
    if (item.Delete) return sum + 2 * kb(item.Delete.Key);
    return sum + 2;
  }, 0);
}

interface MeteredClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
      options: { step: "initialize"; name: string },
    ): void;
  };
}

/** Makes every read and write of `client` return its consumed capacity into `meter`. */
export function meterCapacity(client: MeteredClient, meter: CapacityMeter): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "";
      if (!READS.has(command) && !WRITES.has(command)) return next(args);
      args.input.ReturnConsumedCapacity = "TOTAL";
      const result = await next(args);
      meter.record(
        command,
        (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity,
        args.input,
      );
      return result;
    },
    { step: "initialize", name: "backingCapacityMeter" },
  );
}
