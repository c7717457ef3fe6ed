import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { EndpointRepository, WebhookEndpoint } from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The venues' webhook endpoints. */
export class DynamoEndpoints implements EndpointRepository {
  constructor(private readonly table: TableClient) {}

  async deleteEndpoint(venue: string, id: string): Promise<void> {
    await this.table.documents.send(
      new DeleteCommand({ TableName: this.table.tableName, Key: keys.endpoint(venue, id) }),
    );
  }

  // --- webhooks -------------------------------------------------------------------------------

  async putEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.table.documents.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.endpoint(endpoint.venue, endpoint.id), type: "endpoint", endpoint },
      }),
    );
  }

  async listEndpoints(venue?: string): Promise<WebhookEndpoint[]> {
    const endpoints: WebhookEndpoint[] = [];
    if (venue === undefined) {
      for await (const items of this.table.scanType("endpoint"))
        for (const item of items) endpoints.push(item.endpoint as WebhookEndpoint);
      return endpoints;
    }
    const pages = this.table.queryPages({
      partition: keys.endpoint(venue, "").pk,
      sort: { op: "begins_with", value: "ENDPOINT#" },
    });
    for await (const page of pages) for (const item of page) endpoints.push(item.endpoint as WebhookEndpoint);
    return endpoints;
  }
}
