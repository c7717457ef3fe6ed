import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ApiKeyRecord, ApiKeyRepository } from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The API keys, by the hash of their secret. */
export class DynamoApiKeys implements ApiKeyRepository {
  constructor(private readonly table: TableClient) {}

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    await this.table.documents.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.apiKey(key.hash), type: "api-key", key },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  async getApiKey(hash: string): Promise<ApiKeyRecord | null> {
    const response = await this.table.documents.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.apiKey(hash) }),
    );
    return (response.Item?.key as ApiKeyRecord | undefined) ?? null;
  }
}
