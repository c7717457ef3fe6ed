import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
const client = new DynamoDBClient({ region: "us-east-1" });
console.log(client.middlewareStack.identify().filter((n) => /logger/i.test(n)));
