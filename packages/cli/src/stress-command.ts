import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  issuesFromZod,
  ScenarioPack,
  type StressReport,
  StressReport as StressReportSchema,
} from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, DEFAULT_SCENARIO_PACK, parsePortfolio, stressReport } from "@backing/core";
import type { StressJobResult } from "@backing/engine";
import { csvCell } from "@backing/reports";
import { BadInputError, EXIT_OK, type Io, progress, readJsonInput, withDepthFile, write } from "./io.ts";
import { runningSystem, runningTable } from "./system.ts";

export const STRESS_HELP = `Usage: backing stress <portfolio-file|-> [options]
       backing stress --endpoint <url> --table <name> [options]

Run a scenario pack (DESIGN §3.8) over a portfolio document: post-shock equity, MM, status,
deficit and bad debt per account, liquidation cascades that walk the venue's order book where a
snapshot is given (the document's "depth" or --depth) and a square-root depth model elsewhere,
Cover-1/Cover-2, the insurance fund after, and reverse stress (the severity k at which bad debt
exceeds the fund). Pure: no database.

Without a file, over a running system's stored book: the scheduled stress job, its segments on
worker threads (one per core), the report stored in --out (default out) and in the system's table.
Reverse stress is not run over a stored book (reverseSeverity is null).

Arguments:
  <portfolio-file|->  portfolio document (JSON); - reads stdin

Options:
  --pack <file>       scenario pack (JSON); default: the shipped 12-scenario pack
  --scenario <id>     run only this scenario (repeatable)
  --format <f>        json (default), table or csv
  --json              same as --format json
  --skip-reverse      skip the reverse-stress bisection (reverseSeverity is then null)
  --depth <file>      order-book snapshots (DESIGN §3.11): one { asset, timestamp, bids, asks },
                      a list of them, or snapshots by asset; over the document's own "depth".
                      A stored book's job uses the snapshots stored with POST /v1/depth
  --endpoint <url>    DynamoDB endpoint of a running system (default: BACKING_DYNAMODB_ENDPOINT)
  --table <name>      its table (default: BACKING_TABLE_NAME)
  --out <dir>         where a stored book's report goes (default: out)
  -h, --help          show this help

Insurance fund and impact parameters come from the params document's "stress" section (override
them in the portfolio document's "params"). Exit codes: 0 ok, 1 failure, 2 bad input.
`;

const COLUMNS: [string, (s: StressReport["scenarios"][number]) => string][] = [
  ["scenario", (s) => s.id],
  ["healthy", (s) => String(s.accountsByStatus.HEALTHY)],
  ["warning", (s) => String(s.accountsByStatus.WARNING)],
  ["marginCall", (s) => String(s.accountsByStatus.MARGIN_CALL)],
  ["liquidation", (s) => String(s.accountsByStatus.LIQUIDATION)],
  ["totalBadDebt", (s) => s.totalBadDebt],
  ["insuranceFundAfter", (s) => s.insuranceFundAfter],
  ["cover1", (s) => s.cover1],
  ["cover2", (s) => s.cover2],
  ["reverseSeverity", (s) => s.reverseSeverity ?? "-"],
  ["cascadeRounds", (s) => String(s.cascade.rounds)],
  ["addedBadDebt", (s) => s.cascade.addedBadDebt],
  ["cascadePricedBy", (s) => cascadePricedBy(s.cascade.pricing)],
];

/** "BTC book 3 levels; ETH model": per asset with forced flow, what priced its cascade. */
function cascadePricedBy(pricing: StressReport["scenarios"][number]["cascade"]["pricing"]): string {
  const parts = Object.entries(pricing).map(([asset, p]) =>
    p.pricedBy === "depth"
      ? `${asset} book ${p.pastBook ? "past end" : `${p.levelsTouched} levels`}`
      : `${asset} ${p.pricedBy}`,
  );
  return parts.length > 0 ? parts.join("; ") : "-";
}

export function stressTable(report: StressReport): string {
  const rows = report.scenarios.map((s) => COLUMNS.map(([, cell]) => cell(s)));
  const header = COLUMNS.map(([name]) => name);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

function stressCsv(report: StressReport): string {
  const rows = report.scenarios.map((s) => COLUMNS.map(([, cell]) => csvCell(cell(s))).join(","));
  return `${[COLUMNS.map(([name]) => name).join(","), ...rows].join("\n")}\n`;
}

export async function stressCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      pack: { type: "string" },
      scenario: { type: "string", multiple: true },
      format: { type: "string", default: "json" },
      json: { type: "boolean", default: false },
      "skip-reverse": { type: "boolean", default: false },
      endpoint: { type: "string" },
      table: { type: "string" },
      out: { type: "string" },
      depth: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(STRESS_HELP);
    return EXIT_OK;
  }
  const format = values.json ? "json" : values.format;
  if (format !== "json" && format !== "table" && format !== "csv")
    throw new BadInputError(`--format must be json, table or csv, not "${format}"`);
  const [source, ...extra] = positionals;
  if (extra.length > 0) throw new BadInputError(`unexpected arguments: ${extra.join(" ")}`);
  const packInput = values.pack ? await readJsonInput(values.pack, io) : DEFAULT_SCENARIO_PACK;
  const parsedPack = ScenarioPack.safeParse(packInput);
  if (!parsedPack.success) {
    const issues = issuesFromZod(parsedPack.error);
    throw new BadInputError(
      `invalid scenario pack (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
    );
  }
  const pack = parsedPack.data;
  const unknown = (values.scenario ?? []).filter((id) => !pack.scenarios.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new BadInputError(
      `unknown --scenario ${unknown.join(", ")} (the pack has ${pack.scenarios.map((s) => s.id).join(", ")})`,
    );
  }
  if (!source) {
    if (values.depth !== undefined)
      throw new BadInputError(
        "--depth goes with a portfolio file; a stored book's job uses the snapshots stored with POST /v1/depth",
      );
    const report = await storedBookReport(
      values,
      {
        ...pack,
        scenarios: pack.scenarios.filter((sc) => !values.scenario || values.scenario.includes(sc.id)),
      },
      io,
    );
    await write(io.stdout, formatted(report, format));
    return EXIT_OK;
  }
  const portfolio = await withDepthFile(
    parsePortfolio(await readJsonInput(source, io), DEFAULT_RISK_PARAMS),
    values.depth,
    io,
  );
  // Progress per scenario on stderr once the book is large enough for a run to take a while.
  const total = values.scenario?.length ?? pack.scenarios.length;
  const bar = progress(io, "stress scenarios", total, { always: portfolio.accounts.length >= 2_000 });
  const report = stressReport(portfolio, pack, {
    onScenario: (done) => {
      bar.tick(done);
      if (done === total) bar.done();
    },
    ...(values.scenario ? { scenarios: values.scenario } : {}),
    reverse: !values["skip-reverse"],
  });
  await write(io.stdout, formatted(report, format));
  return EXIT_OK;
}

function formatted(report: StressReport, format: "json" | "table" | "csv"): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  return format === "csv" ? stressCsv(report) : stressTable(report);
}

/** The scheduled stress job over a running system's stored book, its segments on worker threads. */
async function storedBookReport(
  values: { endpoint?: string; table?: string; out?: string },
  pack: ScenarioPack,
  io: Io,
): Promise<StressReport> {
  const what =
    "missing <portfolio-file|->: give the portfolio document to stress, or point at a running system";
  const { endpoint, table } = runningTable(values, what);
  const [{ startStressJob }, { runOnThreads }, { folderReportStore }] = await Promise.all([
    import("@backing/engine"),
    import("@backing/local"),
    import("@backing/reports"),
  ]);
  const reportDir = values.out ?? "out";
  const deps = (await runningSystem(values, what, { reports: folderReportStore(reportDir) })).stress();
  const result = await runOnThreads<StressJobResult>(
    { endpoint, tableName: table, reportDir, volatility: deps.volatility ?? {} },
    (queue, segments) => startStressJob(deps, queue, { segments, pack }),
    io.stderr.isTTY ? { onProgress: (n) => io.stderr.write(`\rstress: ${n} accounts`) } : {},
  );
  io.stderr.write(`${io.stderr.isTTY ? "\n" : ""}wrote ${result.location}\n`);
  return StressReportSchema.parse(JSON.parse(await readFile(result.location, "utf8")));
}
