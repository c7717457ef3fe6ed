import { BadInputError } from "./io.ts";

/**
 * The CLI's one reading of the environment (functions/wiring.ts is the Lambdas'): an existing
 * DynamoDB to use instead of starting DynamoDB Local.
 */
export const configuredDynamoEndpoint = () => process.env.BACKING_DYNAMODB_ENDPOINT || undefined;

/**
 * The running system a command talks to: its DynamoDB endpoint and table, from --endpoint and
 * --table or BACKING_DYNAMODB_ENDPOINT and BACKING_TABLE_NAME. Loads the AWS SDK only when called.
 */
export async function runningSystem(values: { endpoint?: string; table?: string }, what: string) {
  const endpoint = values.endpoint ?? configuredDynamoEndpoint();
  const table = values.table ?? process.env.BACKING_TABLE_NAME;
  if (!endpoint || !table)
    throw new BadInputError(
      `${what}: give --endpoint and --table (or set BACKING_DYNAMODB_ENDPOINT and BACKING_TABLE_NAME)`,
    );
  const [{ connect, dynamoStore }, { deliveryEnvironment }] = await Promise.all([
    import("@backing/dynamo"),
    import("@backing/webhooks"),
  ]);
  return {
    store: dynamoStore(connect({ endpoint }).documents, table),
    /** Webhook deps for commands that send: loopback only with BACKING_WEBHOOK_ALLOW_LOOPBACK=true. */
    delivery: deliveryEnvironment({ allowLoopback: process.env.BACKING_WEBHOOK_ALLOW_LOOPBACK === "true" }),
  };
}
