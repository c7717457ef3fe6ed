import type { Adapters, System } from "@backing/engine";
import { BadInputError } from "./io.ts";

/**
 * The CLI's one reading of the environment (functions/wiring.ts is the Lambdas'): an existing
 * DynamoDB to use instead of starting DynamoDB Local.
 */
export const configuredDynamoEndpoint = () => process.env.BACKING_DYNAMODB_ENDPOINT || undefined;

/**
 * The running system a command talks to: its DynamoDB endpoint and table, from --endpoint and
 * --table or BACKING_DYNAMODB_ENDPOINT and BACKING_TABLE_NAME, composed as every runtime is
 * (composeSystem). Loads the AWS SDK only when called.
 */
/** The running system's DynamoDB and table, from the flags or the environment. */
export function runningTable(values: { endpoint?: string; table?: string }, what: string) {
  const endpoint = values.endpoint ?? configuredDynamoEndpoint();
  const table = values.table ?? process.env.BACKING_TABLE_NAME;
  if (!endpoint || !table)
    throw new BadInputError(
      `${what}: give --endpoint and --table (or set BACKING_DYNAMODB_ENDPOINT and BACKING_TABLE_NAME)`,
    );
  return { endpoint, table };
}

export async function runningSystem(
  values: { endpoint?: string; table?: string },
  what: string,
  adapters: Pick<Adapters, "reports" | "rendering"> = {},
): Promise<System> {
  const { endpoint, table } = runningTable(values, what);
  const [{ connect, dynamoStore }, { deliveryEnvironment }, { composeSystem }] = await Promise.all([
    import("@backing/dynamo"),
    import("@backing/webhooks"),
    import("@backing/engine"),
  ]);
  return composeSystem({
    store: dynamoStore(connect({ endpoint }).documents, table),
    now: Date.now,
    // Commands that send: loopback only with BACKING_WEBHOOK_ALLOW_LOOPBACK=true.
    delivery: deliveryEnvironment({ allowLoopback: process.env.BACKING_WEBHOOK_ALLOW_LOOPBACK === "true" }),
    ...adapters,
  });
}
