import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { UnwatchedAccount, UnwatchedRepository } from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The unwatched accounts: one small partition, read whole by each sweep that ends. */
export class DynamoUnwatched implements UnwatchedRepository {
  constructor(private readonly table: TableClient) {}

  async listUnwatched(): Promise<UnwatchedAccount[]> {
    const marks: UnwatchedAccount[] = [];
    for await (const page of this.table.queryPages({ partition: keys.unwatched("").pk }))
      for (const item of page) marks.push(item.unwatched as UnwatchedAccount);
    return marks;
  }

  async putUnwatched(mark: UnwatchedAccount): Promise<void> {
    await this.table.documents.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.unwatched(mark.accountId), type: "unwatched", unwatched: mark },
      }),
    );
  }

  async deleteUnwatched(accountIds: readonly string[]): Promise<void> {
    await this.table.batchDelete(accountIds.map((id) => keys.unwatched(id)));
  }
}
