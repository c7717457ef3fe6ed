import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type {
  PriceRecord,
  PriceRepository,
  PriceSnapshot,
  PriceUpdateWrite,
  PriceWriteResult,
  StoredPrice,
} from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient, TransactItem } from "../table-client.ts";

/** Each asset's latest and held price, the events seen, and the snapshots. */
export class DynamoPrices implements PriceRepository {
  constructor(private readonly table: TableClient) {}

  async getPrices(): Promise<Map<string, PriceRecord>> {
    const items = await this.table.queryAll(keys.pricesPartition);
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
        ? await this.table.transactEach(
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
          TableName: this.table.tableName,
          Item: { ...keys.priceEvent(update.eventId), type: "price-event", asset: update.asset, action },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      {
        Put: {
          TableName: this.table.tableName,
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
      await this.table.documents.send(
        new TransactWriteCommand({ TransactItems: this.priceUpdateItems(write) }),
      );
      return "applied";
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [marker] = error.CancellationReasons ?? [];
      return marker?.Code === "ConditionalCheckFailed" ? "duplicate" : "conflict";
    }
  }

  async putSnapshot(snapshot: PriceSnapshot): Promise<void> {
    await this.table.documents.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.snapshot(snapshot.id), type: "snapshot", snapshot },
      }),
    );
  }
}
