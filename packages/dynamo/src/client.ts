import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface DynamoConnection {
  /** Unset in AWS; DynamoDB Local's URL locally. */
  endpoint?: string;
  region?: string;
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
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return { client, documents };
}
