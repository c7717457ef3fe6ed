import { parseArgs } from "node:util";
import type { AccountResult } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, evaluatePortfolioAccounts, parsePortfolio } from "@backing/core";
import { BadInputError, EXIT_OK, type Io, progress, readJsonInput, write } from "./io.ts";

export const EVALUATE_HELP = `Usage: backing evaluate <file|-> [options]

Evaluate the collateral adequacy of every account in a portfolio document (DESIGN §3.2) and print
status, equity, IM, MM, margin ratio, call amount and per-position liquidation prices.

Arguments:
  <file|->            portfolio document (JSON); - reads stdin

Options:
  --format <f>        json (default) or table
  --json              same as --format json
  --explain           add the intermediate values (collateral slices, brackets, option marks,
                      portfolio scenarios, liquidation solve) to each account
  -h, --help          show this help

Exit codes: 0 ok, 1 failure, 2 bad input (each offending path is named on stderr).
`;

const TABLE_COLUMNS: [string, (a: AccountResult) => string][] = [
  ["id", (a) => a.id],
  ["venue", (a) => a.venue],
  ["status", (a) => a.status],
  ["equity", (a) => a.equity],
  ["initialMargin", (a) => a.initialMargin],
  ["maintenanceMargin", (a) => a.maintenanceMargin],
  ["marginRatio", (a) => a.marginRatio ?? "-"],
  ["callAmount", (a) => a.callAmount],
];

function tableRow(cells: string[], widths: number[]): string {
  return cells
    .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join("  ");
}

export async function evaluateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "json" },
      json: { type: "boolean", default: false },
      explain: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(EVALUATE_HELP);
    return EXIT_OK;
  }
  const format = values.json ? "json" : values.format;
  if (format !== "json" && format !== "table")
    throw new BadInputError(`--format must be json or table, not "${format}"`);
  const [source, ...extra] = positionals;
  if (!source) throw new BadInputError("missing <file|->: the portfolio document to evaluate");
  if (extra.length > 0) throw new BadInputError(`unexpected arguments: ${extra.join(" ")}`);

  const portfolio = parsePortfolio(await readJsonInput(source, io), DEFAULT_RISK_PARAMS);
  const bar = progress(io, "evaluating", portfolio.accounts.length);
  const results = evaluatePortfolioAccounts(portfolio, { explain: values.explain });

  if (format === "table") {
    const rows: string[][] = [];
    for (const account of results) {
      rows.push(TABLE_COLUMNS.map(([, cell]) => cell(account)));
      bar.tick(rows.length);
    }
    bar.done();
    const header = TABLE_COLUMNS.map(([name]) => name);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    io.stdout.write(`asOf ${portfolio.asOf}  params ${portfolio.params.version}\n`);
    io.stdout.write(`${tableRow(header, widths)}\n`);
    for (const row of rows) await write(io.stdout, `${tableRow(row, widths)}\n`);
    return EXIT_OK;
  }

  // Streamed: one account at a time, so a 100,000-account document never becomes one string.
  await write(
    io.stdout,
    `{\n  "asOf": ${JSON.stringify(portfolio.asOf)},\n  "paramsVersion": ${JSON.stringify(portfolio.params.version)},\n  "accounts": [`,
  );
  let count = 0;
  for (const account of results) {
    const body = JSON.stringify(account, null, 2).replace(/\n/g, "\n    ");
    await write(io.stdout, `${count === 0 ? "" : ","}\n    ${body}`);
    bar.tick(++count);
  }
  bar.done();
  await write(io.stdout, `${count === 0 ? "" : "\n  "}]\n}\n`);
  return EXIT_OK;
}
