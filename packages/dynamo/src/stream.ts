import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { NotificationRecord } from "@backing/engine";
import type { DynamoDBRecord } from "aws-lambda";
import { decodedDocument } from "./documents.ts";

/** A stream record as the notifier sees it: a new outbox item, something else, or unreadable. */
export type StreamEntry =
  | { sequenceNumber: string; kind: "notification"; notification: NotificationRecord }
  | { sequenceNumber: string; kind: "other" }
  | { sequenceNumber: string; kind: "poison"; error: string };

/**
 * The outbox items among a batch of table stream records (INSERTs of `type: "notification"`).
 * A record that cannot be read is returned as poison, not thrown: it must never block its shard.
 */
export function streamEntries(records: readonly DynamoDBRecord[]): StreamEntry[] {
  return records.map((record, i): StreamEntry => {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? `unknown-${i}`;
    if (record.eventName !== "INSERT") return { sequenceNumber, kind: "other" };
    try {
      const image = record.dynamodb?.NewImage;
      if (!image) return { sequenceNumber, kind: "other" };
      const item = unmarshall(image as Record<string, AttributeValue>);
      if (item.type !== "notification") return { sequenceNumber, kind: "other" };
      const notification = decodedDocument<NotificationRecord | undefined>(item.notification);
      if (!notification?.id || !notification.venue || !notification.payload)
        return { sequenceNumber, kind: "poison", error: "notification item without id, venue or payload" };
      return { sequenceNumber, kind: "notification", notification };
    } catch (error) {
      return { sequenceNumber, kind: "poison", error: (error as Error).message };
    }
  });
}
