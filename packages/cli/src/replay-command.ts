import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import {
  Account,
  issuesFromZod,
  type ReplayReport,
  RiskParamsDocument,
  RiskParamsOverride,
} from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, mergeParams, parsePortfolio } from "@backing/core";
import type { ReplayStep, ShippedPath } from "@backing/local";
import { BadInputError, EXIT_OK, type Io, progress, readJsonInput, write } from "./io.ts";
import { configuredDynamoEndpoint } from "./system.ts";

export const REPLAY_HELP = `Usage: backing replay <portfolio-file> <events-file|path-id> [options]
       backing replay --list

Backtest a book and its parameters (DESIGN §3.12): run a price history through the real stateful
engine on an embedded DynamoDB Local (price guards, status machine, trigger index, funding, call
deadlines), with the venue acting on the calls: accounts in LIQUIDATION are closed at the mark in
steps (the params' "liquidation" section), bankruptcies go to the insurance fund and then to ADL,
and a seeded share of called clients top up before the deadline.

Arguments:
  <portfolio-file>    portfolio document (JSON): the accounts, the prices of assets the path does not
                      move, volatility, params overrides, cumulativeFunding
  <events-file>       NDJSON price and funding events, or CSV timestamp,asset,index[,mark]
  <path-id>           a shipped hourly path (see --list)

Options:
  --params <file>     a risk parameter override, merged over the portfolio's params (repeatable):
                      one run per file, compared side by side; its "version" (else the file name)
                      names the run
  --top-up <P>        share of called clients that deposit the call amount plus the cure buffer in
                      USDC one step later (0–1, default 0)
  --seed <n>          seed of the top-up draw (default 1)
  --format <f>        json (default) or html
  --out <dir>         also write replay.json (and replay.html with --format html) there
  --json              print the JSON report on stdout whatever --format says
  --webhook <url>     send every venue's margin notifications there as they happen, signed
                      (Standard Webhooks; https, or loopback with --allow-loopback-webhooks)
  --webhook-secret <whsec_…>
                      the signing secret (default: a new one per venue, printed on stderr)
  --allow-loopback-webhooks
                      let --webhook point at this machine (a local receiver under test)
  --list              list the shipped paths with their provenance
  -h, --help          show this help

Progress and a comparison table go to stderr. Needs Java 17+ for DynamoDB Local (or
BACKING_DYNAMODB_ENDPOINT). Exit codes: 0 ok, 1 failure, 2 bad input (the file, line and field named).
`;

export async function replayCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      params: { type: "string", multiple: true },
      "top-up": { type: "string", default: "0" },
      seed: { type: "string", default: "1" },
      format: { type: "string", default: "json" },
      out: { type: "string" },
      json: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
      webhook: { type: "string" },
      "webhook-secret": { type: "string" },
      "allow-loopback-webhooks": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(REPLAY_HELP);
    return EXIT_OK;
  }
  const { SCENARIOS } = await import("@backing/local");
  if (values.list) {
    io.stdout.write(listing(SCENARIOS));
    return EXIT_OK;
  }
  const format = values.format;
  if (format !== "json" && format !== "html")
    throw new BadInputError(`--format must be json or html, not "${format}"`);
  const topUp = Number(values["top-up"]);
  if (!/^(0|1|0?\.\d+|1\.0+)$/.test(values["top-up"] ?? "") || topUp > 1)
    throw new BadInputError(`--top-up must be a share between 0 and 1, not "${values["top-up"]}"`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed))
    throw new BadInputError(`--seed must be a whole number, not "${values.seed}"`);
  const secret = values["webhook-secret"];
  if (secret !== undefined && !values.webhook) throw new BadInputError("--webhook-secret needs --webhook");
  if (secret !== undefined && !/^whsec_[A-Za-z0-9+/=]{20,}$/.test(secret))
    throw new BadInputError("--webhook-secret must be a Standard Webhooks secret: whsec_ and base64");
  if (values.webhook) {
    const { checkEndpointUrl } = await import("@backing/webhooks");
    try {
      checkEndpointUrl(values.webhook, {
        requireHttps: true,
        allowLoopback: values["allow-loopback-webhooks"],
      });
    } catch (error) {
      throw new BadInputError(`--webhook refused: ${(error as Error).message}`);
    }
  }
  const [portfolioFile, eventsSource, ...extra] = positionals;
  if (!portfolioFile || !eventsSource)
    throw new BadInputError("expected <portfolio-file> <events-file|path-id> (see --help)");
  if (extra.length > 0) throw new BadInputError(`unexpected arguments: ${extra.join(" ")}`);

  // Every input is checked before DynamoDB Local starts: bad input writes nothing.
  const document = (await readJsonInput(portfolioFile, io)) as Record<string, unknown>;
  const portfolio = parsePortfolio(document, DEFAULT_RISK_PARAMS);
  const accounts = (document.accounts as unknown[]).map((a) => Account.parse(a));
  const paramSets = values.params?.length
    ? await Promise.all(values.params.map((file) => paramsFile(file, portfolio.params.document, io)))
    : [portfolio.params.document];
  const versions = paramSets.map((p) => p.version);
  const repeated = versions.find((v, i) => versions.indexOf(v) !== i);
  if (repeated)
    throw new BadInputError(`two --params files name the run "${repeated}": give each its own version`);
  const known = new Set(portfolio.market.quotes.keys());
  const shipped = SCENARIOS[eventsSource];
  const steps = shipped
    ? shippedSteps(eventsSource, shipped, known)
    : await eventsFile(eventsSource, known, portfolio.asOf);

  const { runReplay } = await import("@backing/local");
  const bar = progress(io, "replay", steps.length * paramSets.length, { always: true });
  let done = 0;
  const report = await runReplay(
    {
      path: shipped ? eventsSource : basename(eventsSource),
      steps,
      accounts,
      prices: document.prices as Record<string, { index: string; mark?: string }>,
      volatility: (document.volatility as Record<string, string> | undefined) ?? {},
      cumulativeFunding:
        (document.cumulativeFunding as Record<string, Record<string, string>> | undefined) ?? {},
      asOf: portfolio.asOf,
      params: paramSets,
      topUp,
      seed,
    },
    {
      ...(configuredDynamoEndpoint() ? { endpoint: configuredDynamoEndpoint() as string } : {}),
      progress: () => bar.tick(++done),
      ...(values.webhook
        ? {
            webhook: {
              url: values.webhook,
              allowLoopback: values["allow-loopback-webhooks"],
              ...(secret ? { secret } : {}),
              onEndpoint: (venue: string, signing: string) =>
                io.stderr.write(`webhooks for ${venue} to ${values.webhook}, signed with ${signing}\n`),
            },
          }
        : {}),
    },
  );
  bar.done();
  io.stderr.write(comparison(report));
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.out || format === "html") {
    const dir = values.out ?? "out";
    await mkdir(dir, { recursive: true });
    await atomicWrite(join(dir, "replay.json"), json);
    if (format === "html") {
      const { replayHtml } = await import("@backing/reports");
      await atomicWrite(join(dir, "replay.html"), replayHtml(report));
      io.stderr.write(`wrote ${join(dir, "replay.html")}\n`);
    }
  }
  if (values.json || format === "json") await write(io.stdout, json);
  return EXIT_OK;
}

/** A --params file: an override merged over the portfolio's parameters, checked whole. */
async function paramsFile(file: string, base: RiskParamsDocument, io: Io): Promise<RiskParamsDocument> {
  const input = await readJsonInput(file, io);
  const override = RiskParamsOverride.safeParse(input);
  const merged = override.success ? RiskParamsDocument.safeParse(mergeParams(base, override.data)) : override;
  if (!merged.success) {
    const issues = issuesFromZod(merged.error);
    throw new BadInputError(
      `invalid parameters in ${file}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
    );
  }
  const named = (input as { version?: unknown }).version !== undefined;
  return named ? merged.data : { ...merged.data, version: basename(file).replace(/\.json$/, "") };
}

async function eventsFile(file: string, known: ReadonlySet<string>, asOf: string): Promise<ReplayStep[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new BadInputError(
      `cannot read ${file}: ${(error as Error).message} (or give a shipped path: --list)`,
    );
  }
  const { parseReplayEvents, ReplayInputError } = await import("@backing/local");
  try {
    return parseReplayEvents(text, file, known, asOf);
  } catch (error) {
    if (error instanceof ReplayInputError) throw new BadInputError(error.message);
    throw error;
  }
}

/** A shipped path's points as steps: each asset's price and implied vol, as a feed would send them. */
function shippedSteps(id: string, shipped: ShippedPath, known: ReadonlySet<string>): ReplayStep[] {
  return shipped.path().map((point) => ({
    timestamp: point.timestamp,
    timeMs: Date.parse(point.timestamp),
    funding: [],
    prices: Object.entries(point.prices)
      .filter(([asset]) => known.has(asset))
      .map(([asset, index]) => ({
        eventId: `${id}:${asset}:${point.timestamp}`,
        asset,
        index,
        timestamp: point.timestamp,
        source: `replay:${id}`,
        ...(point.volatility[asset] ? { volatility: point.volatility[asset] } : {}),
      })),
  }));
}

function listing(paths: Record<string, ShippedPath>): string {
  return `${Object.entries(paths)
    .map(([id, p]) =>
      [
        `${id}  (${p.path().length} hourly steps)`,
        `  ${p.description}`,
        `  sources:      ${p.provenance.sources}`,
        `  sampled:      ${p.provenance.sampled}`,
        `  interpolated: ${p.provenance.interpolated}`,
      ].join("\n"),
    )
    .join("\n\n")}\n`;
}

const TOTALS: [string, keyof ReplayReport["runs"][number]["totals"]][] = [
  ["calls", "calls"],
  ["false alarms", "falseAlarms"],
  ["top-ups", "topUps"],
  ["liquidations", "liquidations"],
  ["cures", "cures"],
  ["expired calls", "expiredCalls"],
  ["liquidated notional", "liquidatedNotional"],
  ["fees", "fees"],
  ["bad debt", "badDebt"],
  ["fund used", "fundUsed"],
  ["ADL notional", "adlNotional"],
];

/** The runs side by side, one column per parameter set (stderr: stdout carries the JSON). */
export function comparison(report: ReplayReport): string {
  const header = ["", ...report.runs.map((r) => r.paramsVersion)];
  const rows = TOTALS.map(([label, key]) => [label, ...report.runs.map((r) => String(r.totals[key]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return `${report.path}, ${report.steps} steps\n${[line(header), ...rows.map(line)].join("\n")}\n`;
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
