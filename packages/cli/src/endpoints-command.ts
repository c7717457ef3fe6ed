import { parseArgs } from "node:util";
import { BadInputError, EXIT_OK, type Io } from "./io.ts";
import { runningSystem } from "./system.ts";

export const ENDPOINTS_HELP = `Usage: backing endpoints add --venue <v> --url <url> --types <t1,t2,…>
       backing endpoints list [--venue <v>]
       backing endpoints rotate <venue> <endpoint-id> [--overlap-hours <h>]
       backing endpoints enable|disable <venue> <endpoint-id>

The webhook endpoints of a running system's venues (DESIGN §5).

  add        registers an endpoint (the URL must pass the SSRF guard) and prints it with its
             generated whsec_ secret: give that secret to the venue, it verifies the signatures
  list       the endpoints (secrets shown masked)
  rotate     a new secret signs from now on, the old one alongside it for the overlap
             (default 24 hours); prints the new secret
  enable, disable
             turn delivery to an endpoint on or off (a 410 answer disables it too)

Options:
  --types <list>      comma-separated: margin.warning, margin.call, margin.liquidation,
                      margin.cured, margin.call.expired, report.exposure.ready, report.stress.ready
  --json              JSON on stdout
  --endpoint <url>    DynamoDB endpoint of the running system (default: BACKING_DYNAMODB_ENDPOINT)
  --table <name>      its table (default: BACKING_TABLE_NAME)
  -h, --help          show this help

Loopback URLs (a receiver on this machine) need BACKING_WEBHOOK_ALLOW_LOOPBACK=true, as the local
runtime sets it. Exit codes: 0 ok, 1 failure, 2 bad input.
`;

const masked = (secret: string) => `${secret.slice(0, 10)}…`;

export async function endpointsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      venue: { type: "string" },
      url: { type: "string" },
      types: { type: "string" },
      "overlap-hours": { type: "string", default: "24" },
      json: { type: "boolean", default: false },
      endpoint: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(ENDPOINTS_HELP);
    return values.help ? EXIT_OK : 2;
  }
  if (!["add", "list", "rotate", "enable", "disable"].includes(action))
    throw new BadInputError(`unknown action "${action}" (add, list, rotate, enable or disable)`);
  if (action === "add" && (!values.venue || !values.url || !values.types))
    throw new BadInputError("add needs --venue, --url and --types");
  if (["rotate", "enable", "disable"].includes(action) && rest.length !== 2)
    throw new BadInputError(`${action} needs <venue> <endpoint-id>`);
  const overlapHours = Number(values["overlap-hours"]);
  if (!(overlapHours >= 0)) throw new BadInputError("--overlap-hours must be a number of hours ≥ 0");
  const system = await runningSystem(values, "no running system");
  const engine = await import("@backing/engine");
  const deps = system.webhooks();
  const { store } = system;
  const print = (value: unknown, text: string) =>
    io.stdout.write(values.json ? `${JSON.stringify(value, null, 2)}\n` : text);
  try {
    if (action === "add") {
      const types = (values.types as string)
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      const added = await engine.registerEndpoint(deps, {
        venue: values.venue as string,
        url: values.url as string,
        types,
      });
      print(added, `${added.id}  ${added.venue}  ${added.url}\nsecret ${added.secrets[0]?.secret}\n`);
      return EXIT_OK;
    }
    if (action === "list") {
      const list = await store.listEndpoints(values.venue);
      const shown = list.map((e) => ({
        ...e,
        secrets: e.secrets.map((s) => ({ ...s, secret: masked(s.secret) })),
      }));
      print(
        shown,
        list
          .map(
            (e) =>
              `${e.id}  ${e.venue}  ${e.enabled ? "enabled " : "disabled"}  ${e.url}  ${e.types.join(",")}${e.disabledReason ? `  (${e.disabledReason})` : ""}`,
          )
          .join("\n") + (list.length ? "\n" : ""),
      );
      return EXIT_OK;
    }
    const [venue, id] = rest as [string, string];
    if (action === "rotate") {
      const rotated = await engine.rotateSecret(deps, venue, id, overlapHours * 3_600_000);
      print(rotated, `secret ${rotated.secrets[0]?.secret}\n`);
      return EXIT_OK;
    }
    const found = (await store.listEndpoints(venue)).find((e) => e.id === id);
    if (!found) throw new BadInputError(`no endpoint ${id} for venue ${venue}`);
    const changed = await engine.changeEndpoint(
      deps,
      found,
      action === "enable" ? { enabled: true } : { enabled: false, disabledReason: "disabled by an operator" },
    );
    print({ id, enabled: changed.enabled }, `${id} ${changed.enabled ? "enabled" : "disabled"}\n`);
    return EXIT_OK;
  } catch (error) {
    if ((error as Error).name === "EndpointInputError")
      throw new BadInputError((error as Error).message, { cause: error });
    throw error;
  }
}
