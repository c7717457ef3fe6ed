import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { ReportSummary, ReportSummaryRepository } from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The stored reports' summaries. */
export class DynamoReportSummaries implements ReportSummaryRepository {
  constructor(private readonly table: TableClient) {}

  async putReportSummary(summary: ReportSummary): Promise<void> {
    await this.table.documents.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.report(summary.kind, summary.createdAtMs, summary.id), type: "report", summary },
      }),
    );
  }

  async latestReportSummary(kind: ReportSummary["kind"]): Promise<ReportSummary | null> {
    const response = await this.table.documents.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": keys.report(kind, 0, "").pk },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return (response.Items?.[0]?.summary as ReportSummary | undefined) ?? null;
  }
}
