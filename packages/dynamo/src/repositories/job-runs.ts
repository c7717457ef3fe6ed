import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { JobRun, JobRunRepository } from "@backing/engine";
import { jobPassPrefix, keys } from "../keys.ts";
import { isConditionFailure, type TableClient } from "../table-client.ts";

/** Sharded jobs' runs (one item each) and their pass barrier (one small item per segment and pass). */
export class DynamoJobRuns implements JobRunRepository {
  constructor(private readonly table: TableClient) {}

  async createJobRun(run: JobRun): Promise<boolean> {
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.jobRun(run.id), type: "job-run", run },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getJobRun(id: string): Promise<JobRun | null> {
    const response = await this.table.documents.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.jobRun(id), ConsistentRead: true }),
    );
    return (response.Item?.run as JobRun | undefined) ?? null;
  }

  async reportJobSegment(id: string, pass: number, segment: number): Promise<number> {
    // An unconditional put: a retried segment rewrites its own item, so it counts once.
    await this.table.documents.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.jobSegment(id, pass, segment), type: "job-segment" },
      }),
    );
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.table.documents.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :pass)",
          ExpressionAttributeValues: { ":pk": keys.jobRun(id).pk, ":pass": jobPassPrefix(pass) },
          Select: "COUNT",
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async advanceJobRun(id: string, next: { pass: number } | { finishedAtMs: number }): Promise<boolean> {
    const names = { "#r": "run", "#done": "finishedAtMs" };
    const unfinished = "attribute_exists(pk) AND attribute_type(#r.#done, :null)";
    const update =
      "pass" in next
        ? {
            UpdateExpression: "SET #r.#p = :next",
            ConditionExpression: `${unfinished} AND #r.#p < :next`,
            ExpressionAttributeNames: { ...names, "#p": "pass" },
            ExpressionAttributeValues: { ":next": next.pass, ":null": "NULL" },
          }
        : {
            UpdateExpression: "SET #r.#done = :at",
            ConditionExpression: unfinished,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ":at": next.finishedAtMs, ":null": "NULL" },
          };
    try {
      await this.table.documents.send(
        new UpdateCommand({ TableName: this.table.tableName, Key: keys.jobRun(id), ...update }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
