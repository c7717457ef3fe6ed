import { GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { RiskParamsDocument } from "@backing/contracts";
import type { ParamsRepository } from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The risk parameter sets: the current one and every version. */
export class DynamoParams implements ParamsRepository {
  constructor(private readonly table: TableClient) {}

  async getParams(): Promise<RiskParamsDocument | null> {
    const response = await this.table.documents.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.params }),
    );
    return response.Item ? (JSON.parse(response.Item.document as string) as RiskParamsDocument) : null;
  }

  /** The current set, and the same document kept by version so any evaluation can be re-run later. */
  async putParams(document: RiskParamsDocument): Promise<void> {
    const body = JSON.stringify(document);
    await this.table.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table.tableName,
              Item: { ...keys.params, type: "params", document: body },
            },
          },
          {
            Put: {
              TableName: this.table.tableName,
              Item: { ...keys.paramsVersion(document.version), type: "params-version", document: body },
            },
          },
        ],
      }),
    );
  }

  async getParamsVersion(version: string): Promise<RiskParamsDocument | null> {
    const response = await this.table.documents.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.paramsVersion(version) }),
    );
    return response.Item ? (JSON.parse(response.Item.document as string) as RiskParamsDocument) : null;
  }
}
