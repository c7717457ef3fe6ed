import { parseArgs } from "node:util";
import { BadInputError, EXIT_OK, type Io, write } from "./io.ts";
import { runningSystem } from "./system.ts";

export const NOTIFICATIONS_HELP = `Usage: backing notifications list [--status <s>] [--venue <v>] [--json]
       backing notifications redeliver <notification-id> | --all-failed

The outbox of a running system and what happened to each notification's webhooks.

  list                every notification, oldest first, with its delivery status
                      (delivered, pending, failed = parked after the last retry, no-endpoint)
  redeliver <id>      send a parked notification again (a new round of the retry schedule,
                      same webhook-id); --all-failed does it for every parked one

Options:
  --status <s>        only notifications with this delivery status
  --venue <v>         only this venue's notifications
  --json              one JSON array on stdout
  --endpoint <url>    DynamoDB endpoint of the running system (default: BACKING_DYNAMODB_ENDPOINT)
  --table <name>      its table (default: BACKING_TABLE_NAME)
  -h, --help          show this help

Redelivery from a laptop to loopback endpoints needs BACKING_WEBHOOK_ALLOW_LOOPBACK=true (the
local runtime sets it). Exit codes: 0 ok, 1 failure, 2 bad input.
`;

const STATUSES = ["delivered", "pending", "failed", "no-endpoint"];

export async function notificationsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      status: { type: "string" },
      venue: { type: "string" },
      json: { type: "boolean", default: false },
      "all-failed": { type: "boolean", default: false },
      endpoint: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(NOTIFICATIONS_HELP);
    return values.help ? EXIT_OK : 2;
  }
  if (action !== "list" && action !== "redeliver")
    throw new BadInputError(`unknown action "${action}" (list or redeliver)`);
  if (values.status && !STATUSES.includes(values.status))
    throw new BadInputError(`--status must be one of ${STATUSES.join(", ")}, not "${values.status}"`);
  if (action === "redeliver" && rest.length === 0 && !values["all-failed"])
    throw new BadInputError("redeliver needs a notification id or --all-failed");
  if (rest.length > 1 || (rest.length === 1 && values["all-failed"]))
    throw new BadInputError("give one notification id, or --all-failed");
  const system = await runningSystem(values, "no running system");
  const { store } = system;
  const engine = await import("@backing/engine");

  if (action === "redeliver") {
    const deps = system.webhooks();
    const id = rest[0];
    if (id && !(await store.getNotification(id))) throw new BadInputError(`no notification ${id}`);
    const replayed = await engine.replayParked(deps, id);
    io.stdout.write(
      values.json
        ? `${JSON.stringify({ replayed })}\n`
        : `${replayed} parked deliver${replayed === 1 ? "y" : "ies"} sent again\n`,
    );
    return EXIT_OK;
  }

  const rows = [];
  for (const notification of await store.listNotifications()) {
    if (values.venue && notification.venue !== values.venue) continue;
    const deliveries = await store.getDeliveries(notification.id);
    const status = engine.deliveryStatusOf(deliveries);
    if (values.status && status !== values.status) continue;
    rows.push({
      id: notification.id,
      type: notification.type,
      venue: notification.venue,
      account: notification.accountId,
      createdAt: new Date(notification.createdAtMs).toISOString(),
      status,
      attempts: deliveries.reduce((n, d) => n + d.attempts.length, 0),
      lastError:
        deliveries.flatMap((d) => d.attempts).findLast((a) => a.result !== "delivered")?.error ?? null,
    });
  }
  if (values.json) {
    await write(io.stdout, `${JSON.stringify(rows, null, 2)}\n`);
    return EXIT_OK;
  }
  const header = ["id", "type", "venue", "account", "createdAt", "status", "attempts"];
  const cells = rows.map((r) => [
    r.id,
    r.type,
    r.venue,
    r.account ?? "-",
    r.createdAt,
    r.status,
    String(r.attempts),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ");
  await write(io.stdout, `${[line(header), ...cells.map(line)].join("\n")}\n`);
  return EXIT_OK;
}
