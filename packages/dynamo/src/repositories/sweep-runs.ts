import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type {
  FullSweepRecord,
  SweepRun,
  SweepRunRepository,
  SweepSummary,
  SweepTotals,
} from "@backing/engine";
import { keys } from "../keys.ts";
import { isConditionFailure, type TableClient } from "../table-client.ts";

/** The sharded sweep's lease (one conditional item) and its runs, each with its segments' reports. */
export class DynamoSweepRuns implements SweepRunRepository {
  constructor(private readonly table: TableClient) {}

  async acquireSweepLease(owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.sweepLease, type: "lease", owner, untilMs },
          ConditionExpression: "attribute_not_exists(pk) OR #o = :owner OR untilMs < :now",
          ExpressionAttributeNames: { "#o": "owner" },
          ExpressionAttributeValues: { ":owner": owner, ":now": nowMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async releaseSweepLease(owner: string): Promise<void> {
    try {
      await this.table.documents.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keys.sweepLease,
          ConditionExpression: "#o = :owner",
          ExpressionAttributeNames: { "#o": "owner" },
          ExpressionAttributeValues: { ":owner": owner },
        }),
      );
    } catch (error) {
      // Another sweep's lease now (ours expired and was taken): not ours to free.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async createSweepRun(run: SweepRun): Promise<void> {
    await this.table.documents.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.sweepRun(run.id), type: "sweep-run", run },
      }),
    );
  }

  async getSweepRun(id: string): Promise<SweepRun | null> {
    const response = await this.table.documents.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.sweepRun(id), ConsistentRead: true }),
    );
    return (response.Item?.run as SweepRun | undefined) ?? null;
  }

  async reportSweepSegment(
    runId: string,
    segment: number,
    totals: SweepTotals,
  ): Promise<Map<number, SweepTotals>> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.sweepSegment(runId, segment), type: "sweep-segment", segment, totals },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      // A retried segment reports again: the first report stands.
      if (!isConditionFailure(error)) throw error;
    }
    const reported = new Map<number, SweepTotals>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.documents.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :segment)",
          ExpressionAttributeValues: { ":pk": keys.sweepRun(runId).pk, ":segment": "SEGMENT#" },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) reported.set(item.segment as number, item.totals as SweepTotals);
      start = page.LastEvaluatedKey;
    } while (start);
    return reported;
  }

  async finishSweepRun(runId: string, summary: SweepSummary): Promise<boolean> {
    try {
      await this.table.documents.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.sweepRun(runId),
          UpdateExpression: "SET #r.#s = :summary",
          ConditionExpression: "attribute_exists(pk) AND attribute_type(#r.#s, :null)",
          ExpressionAttributeNames: { "#r": "run", "#s": "summary" },
          ExpressionAttributeValues: { ":summary": summary, ":null": "NULL" },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async lastFullSweep(): Promise<FullSweepRecord | null> {
    const response = await this.table.documents.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.lastFullSweep, ConsistentRead: true }),
    );
    return (response.Item?.record as FullSweepRecord | undefined) ?? null;
  }

  async recordFullSweep(record: FullSweepRecord): Promise<void> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.lastFullSweep, type: "full-sweep", startedAtMs: record.startedAtMs, record },
          ConditionExpression: "attribute_not_exists(pk) OR startedAtMs < :at",
          ExpressionAttributeValues: { ":at": record.startedAtMs },
        }),
      );
    } catch (error) {
      // A later full sweep is recorded already.
      if (!isConditionFailure(error)) throw error;
    }
  }
}
