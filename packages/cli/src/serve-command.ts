import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BadInputError, EXIT_OK, type Io } from "./io.ts";
import { configuredDynamoEndpoint } from "./system.ts";

export const SERVE_HELP = `Usage: backing serve [options]

The long-running local system: DynamoDB Local with a persistent store under --data-dir, the
HTTP API (/v1, OpenAPI at /v1/openapi.json) on loopback, the cron jobs in-process on the same
schedules as AWS (sweep and redeliver every minute, exposure hourly, stress every 6 hours), the
table's stream delivering signed webhooks, and every notification appended to
<data-dir>/topic/margin-notifications.jsonl (the local MarginNotifications topic).

On the first start an admin key is created and written to <data-dir>/admin-key (mode 0600); use
it to create venue keys (POST /v1/keys). Logs are JSON lines on stdout; keys and webhook secrets
are never logged. SIGINT or SIGTERM stops it gracefully: requests and jobs in flight finish, the
stream is drained, and the next start continues from the same data.

Options:
  --port <n>                  HTTP port (default 8787; 0 picks a free one)
  --host <addr>               address to listen on (default 127.0.0.1)
  --data-dir <dir>            where everything persists (default .backing)
  --table <name>              table name (default backing)
  --endpoint <url>            use this DynamoDB instead of starting DynamoDB Local
                              (default: BACKING_DYNAMODB_ENDPOINT when set)
  --allow-loopback-webhooks   accept http://127.0.0.1 webhook endpoints (local receivers)
  --rate-limit <n>            requests per minute per API key (default 600, bursts of 100)
  -h, --help                  show this help

Exit codes: 0 stopped cleanly, 1 failure, 2 bad input.
`;

export async function serveCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "8787" },
      host: { type: "string", default: "127.0.0.1" },
      "data-dir": { type: "string", default: ".backing" },
      table: { type: "string", default: "backing" },
      endpoint: { type: "string" },
      "allow-loopback-webhooks": { type: "boolean", default: false },
      "rate-limit": { type: "string", default: "600" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(SERVE_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new BadInputError(`unexpected arguments: ${positionals.join(" ")}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new BadInputError(`--port must be an integer from 0 to 65535, not "${values.port}"`);
  const rateLimit = Number(values["rate-limit"]);
  if (!Number.isInteger(rateLimit) || rateLimit < 1)
    throw new BadInputError(`--rate-limit must be a positive integer, not "${values["rate-limit"]}"`);
  const log = (entry: Record<string, unknown>) =>
    io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  const { startSystem } = await import("@backing/local");
  const endpoint = values.endpoint ?? configuredDynamoEndpoint();
  const system = await startSystem({
    dataDir: resolve(values["data-dir"]),
    port,
    host: values.host,
    tableName: values.table,
    ...(endpoint ? { endpoint } : {}),
    allowLoopbackWebhooks: values["allow-loopback-webhooks"],
    rateLimitPerMinute: rateLimit,
    log,
  });
  if (system.createdAdminKey)
    io.stderr.write(
      `backing serve: first start; the admin key is in ${system.adminKeyFile} (keep it secret)\n`,
    );
  log({
    level: "INFO",
    message: "ready",
    url: system.url,
    dynamodb: system.dynamoEndpoint,
    table: system.tableName,
  });
  await new Promise<void>((done) => {
    const shutdown = (signal: string) => {
      log({ level: "INFO", message: "signal", signal });
      process.once(signal, () => process.exit(1)); // a second signal does not wait
      void system.stop().then(done);
    };
    process.once("SIGINT", () => shutdown("SIGINT"));
    process.once("SIGTERM", () => shutdown("SIGTERM"));
  });
  return EXIT_OK;
}
