import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { LaneRepository } from "@backing/engine";
import { type DeliveryRecord, deliveryKey } from "@backing/engine";
import { deliveryItem } from "../items.ts";
import { keys } from "../keys.ts";
import { backoff, isConditionFailure, type TableClient } from "../table-client.ts";

/** The lanes that keep an account's deliveries to an endpoint in order. */
export class DynamoLanes implements LaneRepository {
  constructor(private readonly table: TableClient) {}

  private async updateLane(
    endpointId: string,
    accountId: string,
    change: (queue: string[]) => string[] | null,
  ): Promise<string[]> {
    const key = keys.lane(endpointId, accountId);
    for (let attempt = 0; ; attempt++) {
      const response = await this.table.documents.send(
        new GetCommand({ TableName: this.table.tableName, Key: key, ConsistentRead: true }),
      );
      const queue = (response.Item?.queue as string[] | undefined) ?? [];
      const version = (response.Item?.version as number | undefined) ?? 0;
      const next = change(queue);
      if (next === null) return queue;
      try {
        await this.table.documents.send(
          new PutCommand({
            TableName: this.table.tableName,
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
    return this.table.transactEach(
      records.map((record) => ({
        key: deliveryKey(record),
        items: [
          {
            Update: {
              TableName: this.table.tableName,
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
              TableName: this.table.tableName,
              Item: deliveryItem(record),
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        ],
      })),
    );
  }

  /** One conditional UpdateItem: append unless already in the lane (then read it). */
  async joinLane(endpointId: string, accountId: string, notificationId: string): Promise<string[]> {
    try {
      const response = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
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
      const response = await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
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
