import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { type ExposureReport, ExposureReport as ExposureReportSchema } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, type PreviousReport, parsePortfolio, portfolioAggregator } from "@backing/core";
import type { ExposureJobResult } from "@backing/engine";
import {
  accountsCsvHeader,
  accountsCsvRows,
  EXPOSURE_HTML,
  EXPOSURE_JSON,
  exposureFiles,
  PreviousReportError,
  parseAccountsCsv,
} from "@backing/reports/exposure";
import { BadInputError, EXIT_OK, type Io, progress, readJsonInput, withDepthFile, write } from "./io.ts";
import { runningSystem, runningTable } from "./system.ts";

export const REPORT_HELP = `Usage: backing report exposure [<portfolio-file|->] [options]

The exposure report (DESIGN §3.9): long, short, net and gross notional and options greeks per
asset; concentration (top-1/5/10/20 share, HHI, effective N) on gross and net bases; the
liquidation heatmap, CumLiq(±1/2/5/10/20%) and the liquidation-to-depth ratio (LDR > 1: cascade
warning), against the venue's order book where a snapshot is given (with impact bid and ask prices);
collateral before and after haircut with depeg sensitivity; wrong-way collateral;
accounts by status; the 20 closest to liquidation; changes since a previous report.

Arguments:
  <portfolio-file|->  portfolio document (JSON); - reads stdin. Pure: no database.
                      Without it, runs the scheduled exposure job once against a running
                      system's table (--endpoint and --table), which also stores the report's
                      summary and notifies venues.

Options:
  --format <f>        json (default), csv or html
  --json              same as --format json
  --out <dir>         write the report's files to <dir>: the chosen format (csv: one file per
                      table) plus exposure.json and accounts.csv, which --previous reads
  --previous <dir>    a previous report's --out directory: adds "changes since previous"
  --depth <file>      order-book snapshots (DESIGN §3.11): one { asset, timestamp, bids, asks },
                      a list, or snapshots by asset; over the document's own "depth". The job
                      over a running system uses the snapshots stored with POST /v1/depth
  --endpoint <url>    DynamoDB endpoint of a running system (default: BACKING_DYNAMODB_ENDPOINT)
  --table <name>      its table (default: BACKING_TABLE_NAME)
  -h, --help          show this help

Heatmap bins, range and depth come from the params document's "exposure" section (override them
in the portfolio document's "params"). json prints the report on stdout; html without --out
prints the page; csv needs --out. Exit codes: 0 ok, 1 failure, 2 bad input.
`;

type Format = "json" | "csv" | "html";

async function readPrevious(directory: string): Promise<PreviousReport> {
  const read = async (name: string) => {
    try {
      return await readFile(join(directory, name), "utf8");
    } catch (error) {
      throw new BadInputError(`--previous ${directory}: cannot read ${name} (${(error as Error).message})`, {
        cause: error,
      });
    }
  };
  try {
    const previous = ExposureReportSchema.pick({ asOf: true }).safeParse(
      JSON.parse(await read(EXPOSURE_JSON)),
    );
    return {
      asOf: previous.success ? previous.data.asOf : null,
      accounts: parseAccountsCsv(await read("accounts.csv")),
    };
  } catch (error) {
    if (error instanceof PreviousReportError || error instanceof SyntaxError)
      throw new BadInputError(`--previous ${directory}: ${error.message}`, { cause: error });
    throw error;
  }
}

async function writeFiles(directory: string, files: Record<string, string>): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const paths: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const path = join(directory, name);
    await writeFile(path, content);
    paths.push(relative(process.cwd(), path) || path);
  }
  return paths;
}

export async function reportCommand(args: string[], io: Io): Promise<number> {
  const [kind, ...rest] = args;
  if (kind === "--help" || kind === "-h" || kind === undefined) {
    io.stdout.write(REPORT_HELP);
    return kind === undefined ? 2 : EXIT_OK;
  }
  if (kind !== "exposure") throw new BadInputError(`unknown report "${kind}" (known: exposure)`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "json" },
      json: { type: "boolean", default: false },
      out: { type: "string" },
      previous: { type: "string" },
      depth: { type: "string" },
      endpoint: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(REPORT_HELP);
    return EXIT_OK;
  }
  const format = (values.json ? "json" : values.format) as Format;
  if (!["json", "csv", "html"].includes(format))
    throw new BadInputError(`--format must be json, csv or html, not "${values.format}"`);
  if (format === "csv" && !values.out)
    throw new BadInputError("--format csv writes one file per table: give --out <dir>");
  const [source, ...extra] = positionals;
  if (extra.length > 0) throw new BadInputError(`unexpected arguments: ${extra.join(" ")}`);

  if (!source) {
    if (values.depth !== undefined)
      throw new BadInputError(
        "--depth goes with a portfolio file; the job over a running system uses the snapshots stored with POST /v1/depth",
      );
    return storeReport(values, format, io);
  }

  const portfolio = await withDepthFile(
    parsePortfolio(await readJsonInput(source, io), DEFAULT_RISK_PARAMS),
    values.depth,
    io,
  );
  const previous = values.previous ? await readPrevious(values.previous) : null;
  const aggregator = portfolioAggregator(portfolio, previous);
  const bar = progress(io, "exposure", portfolio.accounts.length);
  const CHUNK = 1_000;
  let accountsCsv = accountsCsvHeader;
  for (let i = 0; i < portfolio.accounts.length; i += CHUNK) {
    const rows = aggregator.add(portfolio.accounts.slice(i, i + CHUNK));
    if (values.out) accountsCsv += accountsCsvRows(rows);
    bar.tick(Math.min(i + CHUNK, portfolio.accounts.length));
  }
  bar.done();
  const report = aggregator.report(portfolio.asOf);
  if (values.out) {
    const files = {
      ...exposureFiles(report, format),
      ...exposureFiles(report, "json"),
      "accounts.csv": accountsCsv,
    };
    const paths = await writeFiles(values.out, files);
    io.stderr.write(`wrote ${paths.join(", ")}\n`);
  }
  await printReport(io, report, format, values.out);
  return EXIT_OK;
}

async function printReport(
  io: Io,
  report: ExposureReport,
  format: Format,
  out: string | undefined,
): Promise<void> {
  if (format === "json") await write(io.stdout, `${JSON.stringify(report, null, 2)}\n`);
  else if (format === "html" && !out)
    await write(io.stdout, exposureFiles(report, "html")[EXPOSURE_HTML] as string);
  else if (format === "html") io.stdout.write(`${join(out as string, EXPOSURE_HTML)}\n`);
  else io.stdout.write(`${out}\n`);
}

/** Without a file: the scheduled job, once, against a running system's table. */
async function storeReport(
  values: { endpoint?: string; table?: string; out?: string },
  format: Format,
  io: Io,
): Promise<number> {
  const [{ startExposureJob }, { runOnThreads }, { folderReportStore }, { exposureRendering }] =
    await Promise.all([
      import("@backing/engine"),
      import("@backing/local"),
      import("@backing/reports"),
      import("@backing/reports/exposure"),
    ]);
  const what = "no portfolio file: give one (or - for stdin), or point at a running system";
  const reportDir = values.out ?? "out";
  const system = await runningSystem(values, what, {
    reports: folderReportStore(reportDir),
    rendering: exposureRendering,
  });
  const { endpoint, table } = runningTable(values, what);
  // The job's segments on worker threads, one per core: the job worker Lambda's code.
  const deps = system.exposure();
  const result = await runOnThreads<ExposureJobResult>(
    { endpoint, tableName: table, reportDir, volatility: deps.volatility ?? {} },
    (queue, segments) => startExposureJob(deps, queue, { segments }),
    io.stderr.isTTY ? { onProgress: (n) => io.stderr.write(`\rexposure: ${n} accounts`) } : {},
  );
  io.stderr.write(`${io.stderr.isTTY ? "\n" : ""}wrote ${Object.values(result.locations).join(", ")}\n`);
  if (format === "json") await write(io.stdout, `${JSON.stringify(result.report, null, 2)}\n`);
  else io.stdout.write(`${result.locations[format === "html" ? EXPOSURE_HTML : EXPOSURE_JSON]}\n`);
  return EXIT_OK;
}
