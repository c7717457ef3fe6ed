import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type CapacityMeter, meterCapacity } from "./capacity.ts";

export interface DynamoConnection {
  /** Unset in AWS; DynamoDB Local's URL locally. */
  endpoint?: string;
  region?: string;
  /** Counts every call's consumed request units (the cost bench). */
  meter?: CapacityMeter;
}

/**
 * A raw and a document client. Locally the credentials are dummies (DynamoDB Local wants them
 * alphanumeric). Numbers are never marshalled from money: decimals are stored as strings (S).
 */
export function connect(connection: DynamoConnection) {
  const client = new DynamoDBClient({
    region: connection.region ?? "us-east-1",
    ...(connection.endpoint
      ? { endpoint: connection.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 5,
  });
  withoutLogFiltering(client);
  if (connection.meter) meterCapacity(client, connection.meter);
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return { client, documents };
}

/**
 * Removes the SDK's logger middleware. With no logger configured it still copies every request
 * and response through its sensitive-data filter for the no-op logger (a tenth of the SDK's CPU
 * in the demo); Backing logs what it sends itself and never passes the SDK a logger.
 */
export function withoutLogFiltering(client: { middlewareStack: { remove(name: string): boolean } }) {
  client.middlewareStack.remove("loggerMiddleware");
}
