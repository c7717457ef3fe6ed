import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { LaneEntry, LaneHead, LaneRepository } from "@backing/engine";
import { type DeliveryRecord, deliveryKey, laneEntryOf, laneWith } from "@backing/engine";
import { deliveryItem } from "../items.ts";
import { keys } from "../keys.ts";
import { backoff, type Item, isConditionFailure, type TableClient } from "../table-client.ts";

/**
 * The lanes that keep an account's deliveries to an endpoint in order. A lane with a head is in
 * gsi1 under `LANES#HELD`, sorted by the end of its head's lease (`keys.laneLease`); an empty lane
 * leaves the index.
 */
export class DynamoLanes implements LaneRepository {
  constructor(private readonly table: TableClient) {}

  /** Read and rewrite under the lane's version: the fallback when a one-request update cannot say it. */
  private async updateLane(
    endpointId: string,
    accountId: string,
    leaseUntilMs: number,
    change: (queue: LaneEntry[]) => LaneEntry[] | null,
  ): Promise<string[]> {
    const key = keys.lane(endpointId, accountId);
    for (let attempt = 0; ; attempt++) {
      const response = await this.table.documents.send(
        new GetCommand({ TableName: this.table.tableName, Key: key, ConsistentRead: true }),
      );
      const queue = entriesOf(response.Item);
      const version = (response.Item?.version as number | undefined) ?? 0;
      const next = change(queue);
      if (next === null) return queue.map((e) => e.notificationId);
      // The head keeps its lease; a new head takes the given one.
      const lease =
        next[0] !== undefined && next[0].notificationId === queue[0]?.notificationId
          ? (leaseOf(response.Item) ?? leaseUntilMs)
          : leaseUntilMs;
      try {
        await this.table.documents.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: {
              ...key,
              type: "lane",
              endpointId,
              accountId,
              queue: next.map((e) => e.notificationId),
              sequences: next.map((e) => e.sequence ?? null),
              version: version + 1,
              ...(next.length > 0 ? keys.laneLease(lease, endpointId, accountId) : {}),
            },
            ...(version === 0
              ? { ConditionExpression: "attribute_not_exists(pk)" }
              : {
                  ConditionExpression: "#v = :v",
                  ExpressionAttributeNames: { "#v": "version" },
                  ExpressionAttributeValues: { ":v": version },
                }),
          }),
        );
        return next.map((e) => e.notificationId);
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= 20) throw error;
        await backoff(attempt);
      }
    }
  }

  async openLanes(records: readonly DeliveryRecord[], leaseMs: number): Promise<Set<string>> {
    return this.table.transactEach(
      records.map((record) => {
        const accountId = record.accountId as string;
        const lease = (record.nextAttemptAtMs ?? 0) + leaseMs;
        return {
          key: deliveryKey(record),
          items: [
            {
              Update: {
                TableName: this.table.tableName,
                Key: keys.lane(record.endpointId, accountId),
                ...headUpdate(record.endpointId, accountId, laneEntryOf(record), lease),
              },
            },
            {
              Put: {
                TableName: this.table.tableName,
                Item: deliveryItem(record),
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
          ],
        };
      }),
    );
  }

  /**
   * Heads an empty lane in one conditional UpdateItem (with a fresh lease); else reads the lane and
   * writes it back with the notification in its place (the head's lease unchanged), unless it is
   * in the lane already.
   */
  async joinLane(
    endpointId: string,
    accountId: string,
    entry: LaneEntry,
    leaseUntilMs: number,
  ): Promise<string[]> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.lane(endpointId, accountId),
          ...headUpdate(endpointId, accountId, entry, leaseUntilMs),
        }),
      );
      return [entry.notificationId];
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return this.updateLane(endpointId, accountId, leaseUntilMs, (queue) => laneWith(queue, entry));
  }

  /**
   * The head leaves in one conditional UpdateItem and the next head's lease starts; anyone else
   * (rare: a replay) by read and rewrite. A lane left empty leaves the index.
   */
  async leaveLane(
    endpointId: string,
    accountId: string,
    notificationId: string,
    leaseUntilMs: number,
  ): Promise<string[]> {
    let queue: string[];
    try {
      const response = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.lane(endpointId, accountId),
          UpdateExpression: "REMOVE #q[0], #s[0] SET gsi1pk = :held, gsi1sk = :lease ADD #v :one",
          ConditionExpression: "#q[0] = :id",
          ExpressionAttributeNames: {
            "#q": "queue",
            "#s": "sequences",
            "#v": "version",
          },
          ExpressionAttributeValues: {
            ":id": notificationId,
            ":one": 1,
            ":held": keys.LANES_HELD,
            ":lease": keys.laneLease(leaseUntilMs, endpointId, accountId).gsi1sk,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      queue = (response.Attributes?.queue as string[] | undefined) ?? [];
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.updateLane(endpointId, accountId, leaseUntilMs, (queue) =>
        queue.some((e) => e.notificationId === notificationId)
          ? queue.filter((e) => e.notificationId !== notificationId)
          : null,
      );
    }
    if (queue.length === 0) await this.unindex(endpointId, accountId);
    return queue;
  }

  /** An empty lane leaves the index (unless someone joined it meanwhile). */
  private async unindex(endpointId: string, accountId: string): Promise<void> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.lane(endpointId, accountId),
          UpdateExpression: "REMOVE gsi1pk, gsi1sk",
          ConditionExpression: "size(#q) = :zero",
          ExpressionAttributeNames: { "#q": "queue" },
          ExpressionAttributeValues: { ":zero": 0 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async expiredLanes(nowMs: number, limit: number): Promise<LaneHead[]> {
    const lanes: Item[] = [];
    for await (const page of this.table.queryPages({
      index: "gsi1",
      partition: keys.LANES_HELD,
      sort: { op: "<=", value: `${String(nowMs).padStart(15, "0")}#~` },
      limit,
    }))
      lanes.push(...page);
    const heads: LaneHead[] = [];
    for (const lane of lanes) {
      const [endpointId, accountId, head] = [lane.endpointId, lane.accountId, (lane.queue as string[])[0]];
      // An index entry left by a process that died between emptying the lane and unindexing it.
      if (head === undefined) await this.unindex(endpointId as string, accountId as string);
      else
        heads.push({
          endpointId: endpointId as string,
          accountId: accountId as string,
          head,
          leaseUntilMs: leaseOf(lane) as number,
        });
    }
    return heads;
  }

  async renewLane(lane: LaneHead, leaseUntilMs: number): Promise<boolean> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.lane(lane.endpointId, lane.accountId),
          UpdateExpression: "SET gsi1sk = :lease",
          ConditionExpression: "#q[0] = :head",
          ExpressionAttributeNames: { "#q": "queue" },
          ExpressionAttributeValues: {
            ":head": lane.head,
            ":lease": keys.laneLease(leaseUntilMs, lane.endpointId, lane.accountId).gsi1sk,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** The update that makes a notification the head of an empty lane, with its lease (conditional on the lane being empty). */
function headUpdate(endpointId: string, accountId: string, entry: LaneEntry, leaseUntilMs: number) {
  const { gsi1pk, gsi1sk } = keys.laneLease(leaseUntilMs, endpointId, accountId);
  return {
    UpdateExpression:
      "SET #q = :ids, #s = :sequences, #t = :lane, #e = :endpoint, #a = :account, gsi1pk = :held, gsi1sk = :lease ADD #v :one",
    ConditionExpression: "attribute_not_exists(#q) OR size(#q) = :zero",
    ExpressionAttributeNames: {
      "#q": "queue",
      "#s": "sequences",
      "#t": "type",
      "#v": "version",
      "#e": "endpointId",
      "#a": "accountId",
    },
    ExpressionAttributeValues: {
      ":ids": [entry.notificationId],
      ":sequences": [entry.sequence ?? null],
      ":lane": "lane",
      ":endpoint": endpointId,
      ":account": accountId,
      ":held": gsi1pk,
      ":lease": gsi1sk,
      ":one": 1,
      ":zero": 0,
    },
  };
}

/** A lane item's queue with each notification's sequence. */
function entriesOf(item: Item | undefined): LaneEntry[] {
  const queue = (item?.queue as string[] | undefined) ?? [];
  const sequences = (item?.sequences as (number | null)[] | undefined) ?? [];
  return queue.map((notificationId, i) => {
    const sequence = sequences[i];
    return typeof sequence === "number" ? { notificationId, sequence } : { notificationId };
  });
}

/** The end of a lane head's lease: the time its index sort key starts with. */
function leaseOf(item: Item | undefined): number | undefined {
  const sortKey = item?.gsi1sk as string | undefined;
  return sortKey === undefined ? undefined : Number(sortKey.slice(0, sortKey.indexOf("#")));
}
