import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { FundingRecord, FundingRepository, FundingWriteResult } from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** Cumulative funding per venue and asset (one small partition), and the funding events seen. */
export class DynamoFunding implements FundingRepository {
  constructor(private readonly table: TableClient) {}

  async getFunding(): Promise<FundingRecord[]> {
    const items = await this.table.queryAll(keys.fundingPartition);
    return items.map((item) => item.funding as FundingRecord);
  }

  async applyFunding(next: FundingRecord, previous: FundingRecord | null): Promise<FundingWriteResult> {
    try {
      await this.table.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table.tableName,
                Item: { ...keys.fundingEvent(next.eventId), type: "funding-event", venue: next.venue },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
            {
              Put: {
                TableName: this.table.tableName,
                Item: {
                  ...keys.funding(next.venue, next.asset),
                  type: "funding",
                  funding: next,
                  revision: next.eventId,
                },
                ...(previous
                  ? {
                      ConditionExpression: "revision = :revision",
                      ExpressionAttributeValues: { ":revision": previous.eventId },
                    }
                  : { ConditionExpression: "attribute_not_exists(pk)" }),
              },
            },
          ],
        }),
      );
      return "applied";
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [marker] = error.CancellationReasons ?? [];
      return marker?.Code === "ConditionalCheckFailed" ? "duplicate" : "conflict";
    }
  }
}
