import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { NotificationRecord, Outbox } from "@backing/engine";
import { decodedDocument } from "../documents.ts";
import { notificationItem } from "../items.ts";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The notifications, indexed by venue and time. */
export class DynamoOutbox implements Outbox {
  constructor(private readonly table: TableClient) {}

  async putNotifications(records: NotificationRecord[]): Promise<void> {
    for (const n of records) {
      try {
        await this.table.documents.send(
          new PutCommand({
            TableName: this.table.tableName,
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
    const response = await this.table.documents.send(
      new QueryCommand({
        TableName: this.table.tableName,
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

  async listNotifications(): Promise<NotificationRecord[]> {
    // Small tables only (tests, demo summary): notifications are also indexed by venue in gsi1.
    const notifications: NotificationRecord[] = [];
    for await (const items of this.table.scanType("notification")) {
      for (const item of items) notifications.push(decodedDocument<NotificationRecord>(item.notification));
    }
    return notifications.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  async getNotification(id: string): Promise<NotificationRecord | null> {
    const response = await this.table.documents.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.notification(id), ConsistentRead: true }),
    );
    return response.Item ? decodedDocument<NotificationRecord>(response.Item.notification) : null;
  }
}
