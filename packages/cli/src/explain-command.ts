import { parseArgs } from "node:util";
import type { Explanation } from "@backing/engine";
import { BadInputError, EXIT_FAILURE, EXIT_OK, type Io, write } from "./io.ts";
import { runningSystem } from "./system.ts";

export const EXPLAIN_HELP = `Usage: backing explain <notification-id> [--json]

Reproduce a margin notification exactly: load the account document, price snapshot, implied vols
and params version its evaluation used, re-run the evaluation with the risk core, print the
explain trace (collateral slices, per-position margin, thresholds, the status decision and the
hysteresis rule that applied) and check every stored figure against the re-run.

Options:
  --json              the explanation as one JSON object
  --endpoint <url>    DynamoDB endpoint of the running system (default: BACKING_DYNAMODB_ENDPOINT)
  --table <name>      its table (default: BACKING_TABLE_NAME)
  -h, --help          show this help

Exit codes: 0 reproduced exactly, 1 a figure differs (the diff is printed) or failure,
2 bad input or unknown notification.
`;

export async function explainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      endpoint: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(EXPLAIN_HELP);
    return EXIT_OK;
  }
  const [id, ...extra] = positionals;
  if (!id) throw new BadInputError("missing <notification-id> (see `backing notifications list`)");
  if (extra.length > 0) throw new BadInputError(`unexpected arguments: ${extra.join(" ")}`);
  const { store } = await runningSystem(values, "no running system");
  const { explainNotification, ExplainError } = await import("@backing/engine");
  let explanation: Explanation;
  try {
    explanation = await explainNotification(store, id);
  } catch (error) {
    if (error instanceof ExplainError) throw new BadInputError(error.message);
    throw error;
  }
  await write(
    io.stdout,
    values.json ? `${JSON.stringify(explanation, null, 2)}\n` : explanationText(explanation),
  );
  if (explanation.diffs.length > 0) {
    io.stderr.write(
      `backing explain: ${explanation.diffs.length} stored figure(s) differ from the re-run:\n`,
    );
    for (const d of explanation.diffs)
      io.stderr.write(`  ${d.field}: stored ${d.stored}, re-run ${d.recomputed}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

function explanationText(e: Explanation): string {
  const { trace } = e;
  const lines = [
    `${e.notification.type} ${e.notification.id}`,
    `  venue ${e.notification.venue}, account ${e.notification.account}, at ${e.notification.createdAt}`,
    `inputs: asOf ${e.inputs.asOf}, params ${e.inputs.paramsVersion}, previous status ${e.inputs.previousStatus}`,
    `  prices: ${Object.entries(e.inputs.prices)
      .map(([asset, p]) => `${asset} ${p.index}${p.mark !== p.index ? ` (mark ${p.mark})` : ""}`)
      .join(", ")}`,
    "figures (stored = re-run):",
    ...(["status", "equity", "initialMargin", "maintenanceMargin", "callAmount"] as const).map(
      (field) =>
        `  ${field.padEnd(18)} ${e.stored[field]}${e.stored[field] === e.recomputed[field] ? "" : `  ≠ re-run ${e.recomputed[field]}`}`,
    ),
    `decision: thresholds say ${e.decision.thresholdStatus}; status ${e.decision.status}`,
    `  rule: ${e.decision.rule}`,
    "trace (as `backing evaluate --explain`):",
    ...JSON.stringify(trace.explain ?? trace, null, 2)
      .split("\n")
      .map((line) => `  ${line}`),
    e.diffs.length === 0 ? "reproduced exactly: 0 diffs" : `${e.diffs.length} diffs`,
  ];
  return `${lines.join("\n")}\n`;
}
