import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DeliveryRepository } from "@backing/engine";
import { type DeliveryCandidate, type DeliveryRecord, deliveryKey } from "@backing/engine";
import { deliveryItem } from "../items.ts";
import { keys } from "../keys.ts";
import { type Item, isConditionFailure, type TableClient } from "../table-client.ts";

/** Each notification's deliveries, in its partition, with the due and failed indexes. */
export class DynamoDeliveries implements DeliveryRepository {
  constructor(private readonly table: TableClient) {}

  async ensureDeliveries(records: DeliveryRecord[]): Promise<{ record: DeliveryRecord; created: boolean }[]> {
    const created = await Promise.all(
      records.map(async (record) => {
        try {
          await this.table.documents.send(
            new PutCommand({
              TableName: this.table.tableName,
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
    const response = await this.table.documents.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues: { ":pk": keys.notification(notificationId).pk, ":sk": "DELIVERY#" },
        ConsistentRead: true,
      }),
    );
    return (response.Items ?? []).map((item) => item.delivery as DeliveryRecord);
  }

  async updateDelivery(record: DeliveryRecord, expectedVersion: number): Promise<boolean> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
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
    const pages = this.table.queryPages({
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

  async busyDeliveries(candidates: readonly DeliveryCandidate[]): Promise<Set<string>> {
    const wanted = new Map<string, Item>();
    const want = (key: Item) => wanted.set(`${key.pk}|${key.sk}`, key);
    for (const { record, after } of candidates) {
      want(keys.delivery(record.notificationId, record.endpointId));
      if (record.accountId !== null) want(keys.lane(record.endpointId, record.accountId));
      if (after !== null) want(keys.delivery(after, record.endpointId));
    }
    const found = new Map(
      (await this.table.batchGet([...wanted.values()], { consistent: true })).map((item) => [
        `${item.pk}|${item.sk}`,
        item,
      ]),
    );
    const at = (key: Item) => found.get(`${key.pk}|${key.sk}`);
    const finished = (item: Item | undefined) => {
      const status = (item?.delivery as DeliveryRecord | undefined)?.status;
      return status === "delivered" || status === "failed";
    };
    return new Set(
      candidates
        .filter(
          ({ record: r, after }) =>
            at(keys.delivery(r.notificationId, r.endpointId)) !== undefined ||
            (r.accountId !== null &&
              ((at(keys.lane(r.endpointId, r.accountId))?.queue as string[] | undefined) ?? []).length > 0) ||
            (after !== null && !finished(at(keys.delivery(after, r.endpointId)))),
        )
        .map(({ record }) => deliveryKey(record)),
    );
  }

  async recordDeliveries(records: readonly DeliveryRecord[]): Promise<void> {
    await this.table.batchPut(records.map(deliveryItem));
  }
}
