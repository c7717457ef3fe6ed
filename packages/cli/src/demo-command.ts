import { parseArgs } from "node:util";
import type { DemoSummary } from "@backing/local";
import { BadInputError, EXIT_OK, type Io, progress } from "./io.ts";
import { configuredDynamoEndpoint } from "./system.ts";

/** The replayable paths of @backing/local's SCENARIOS (listed here so --help needs no import). */
const SCENARIO_IDS = ["ftx-2022"];

export const DEMO_HELP = `Usage: backing demo [options]

The end-to-end local run (what \`npm start\` does): starts DynamoDB Local (or uses
BACKING_DYNAMODB_ENDPOINT), seeds a synthetic book, replays a historical crash hour by hour as price
events through the real engine (price guards, status machine, transactional outbox), runs the
stress pack and the exposure report (HTML, JSON and CSV under --out) and prints what happened.

Options:
  --accounts <n>      book size (default 5000)
  --scenario <id>     replayed path: ${SCENARIO_IDS.join(", ")} (default ftx-2022)
  --out <dir>         where the exposure report goes (default out)
  --json              print the summary as one JSON object on stdout (progress stays on stderr)
  -h, --help          show this help

Needs Java 17+ for DynamoDB Local. Exit codes: 0 ok, 1 failure, 2 bad input.
`;

function stressLines(summary: DemoSummary): string[] {
  const header = [
    "scenario",
    "liquidations",
    "totalBadDebt",
    "insuranceFundAfter",
    "cover2",
    "rounds",
    "walkedBook",
  ];
  const rows = summary.stress.map((s) => [
    s.id,
    String(s.liquidations),
    s.totalBadDebt,
    s.insuranceFundAfter,
    s.cover2,
    String(s.cascadeRounds),
    s.cascadeWalkedBook.join(" ") || "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ")}`;
  return [line(header), ...rows.map(line)];
}

function table(summary: DemoSummary): string {
  const lines = [
    `scenario            ${summary.scenario}`,
    `accounts            ${summary.accounts}`,
    `ticks               ${summary.ticks}`,
    `accounts evaluated  ${summary.accountsEvaluated}`,
    `state transitions   ${summary.transitions}`,
    ...Object.entries(summary.notifications).map(([type, n]) => `${type.padEnd(20)}${n}`),
    `held on stale price ${summary.skippedStale}`,
    `invalid accounts    ${summary.invalidAccounts}`,
    `elapsed             ${(summary.elapsedMs / 1000).toFixed(1)} s`,
    "",
    "What the venues did (liquidation model of DESIGN §3.12; 30% of called clients top up):",
    `  liquidations ${summary.venues.liquidations} (notional ${summary.venues.liquidatedNotional} USD), top-ups ${summary.venues.topUps}, calls cured without a deposit ${summary.venues.falseAlarms}`,
    `  fees ${summary.venues.fees}, bad debt ${summary.venues.badDebt}, fund used ${summary.venues.fundUsed}, fund after ${summary.venues.fundAfter}, ADL notional ${summary.venues.adlNotional} (USD)`,
    "",
    "Stress pack over the book the venues hold after the replay (bad debt in USD; walkedBook: the",
    "assets whose cascade walked the venue's posted order book, the others priced by the model):",
    ...stressLines(summary),
    "",
    `Webhooks to venue-a and venue-b (venue-b answers 503 once to its first 5 notifications):`,
    `  delivered ${summary.webhooks.delivered}, signatures verified ${summary.webhooks.verified}, retried ${summary.webhooks.retried}, parked ${summary.webhooks.parked}, undelivered ${summary.webhooks.undelivered}`,
    `  tick-to-webhook latency p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms`,
    `Explained: ${summary.explained.notifications} margin notifications re-run from their stored evidence, ${summary.explained.diffs} figures differ`,
    `Operators' topic (MarginNotifications; local sink): ${summary.topic.published} notifications in ${summary.topic.file}`,
    "",
    `Exposure report (open in a browser): ${summary.reports.exposureHtml}`,
  ];
  return `${lines.join("\n")}\n`;
}

export async function demoCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      accounts: { type: "string", default: "5000" },
      scenario: { type: "string", default: "ftx-2022" },
      json: { type: "boolean", default: false },
      out: { type: "string", default: "out" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new BadInputError(`unexpected arguments: ${positionals.join(" ")}`);
  const accounts = Number(values.accounts);
  if (!Number.isInteger(accounts) || accounts < 1 || accounts > 1_000_000) {
    throw new BadInputError(`--accounts must be an integer from 1 to 1000000, not "${values.accounts}"`);
  }
  if (!SCENARIO_IDS.includes(values.scenario)) {
    throw new BadInputError(`unknown --scenario "${values.scenario}" (known: ${SCENARIO_IDS.join(", ")})`);
  }
  const { runDemo } = await import("@backing/local");
  const bars = new Map<string, ReturnType<typeof progress>>();
  const summary = await runDemo({
    accounts,
    scenario: values.scenario,
    endpoint: configuredDynamoEndpoint(),
    outDir: values.out,
    progress: (label, done, total) => {
      let bar = bars.get(label);
      if (!bar) {
        bar = progress(io, label, total, { always: true });
        bars.set(label, bar);
      }
      bar.tick(done);
      if (done === total) bar.done();
    },
  });
  io.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : table(summary));
  return EXIT_OK;
}
