import { PortfolioInputError } from "@backing/core";
import { demoCommand } from "./demo-command.ts";
import { endpointsCommand } from "./endpoints-command.ts";
import { evaluateCommand } from "./evaluate-command.ts";
import { explainCommand } from "./explain-command.ts";
import { BadInputError, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, type Io } from "./io.ts";
import { notificationsCommand } from "./notifications-command.ts";
import { replayCommand } from "./replay-command.ts";
import { reportCommand } from "./report-command.ts";
import { serveCommand } from "./serve-command.ts";
import { stressCommand } from "./stress-command.ts";

const HELP = `Usage: backing <command> [options]

Backing: collateral adequacy, margin calls, stress tests and exposure reports for crypto
derivatives books.

Commands:
  evaluate <file|->   evaluate a portfolio document: status, equity, IM, MM, liquidation prices
  stress <file|->     run the scenario pack: bad debt, cascades, Cover-1/2, reverse stress
  report exposure [<file|->]
                      exposure report: notional, concentration, liquidation heatmap, CumLiq,
                      LDR, collateral and depeg sensitivity (JSON, CSV or HTML)
  replay <portfolio-file> <events-file|path-id>
                      backtest the book and its parameters through a price history: calls,
                      the venue's liquidations, insurance fund and ADL (--list: shipped paths)
  explain <notification-id>
                      re-run a margin notification's evaluation and check its figures
  notifications list|redeliver
                      a running system's outbox: delivery status, replay parked webhooks
  endpoints add|list|rotate|enable|disable
                      the venues' webhook endpoints and their secrets
  serve               the long-running local system: HTTP API, cron jobs, webhooks, persistent data
  demo                the end-to-end local run: DynamoDB Local, a seeded book, a crash replay
                      (what \`npm start\` runs)

Run \`backing <command> --help\` for a command's options.
Exit codes: 0 ok, 1 failure, 2 bad input.
`;

const MAX_ISSUES_SHOWN = 50;

function reportInputIssues(error: PortfolioInputError, io: Io): void {
  const { issues } = error;
  io.stderr.write(
    `invalid portfolio document (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n`,
  );
  for (const issue of issues.slice(0, MAX_ISSUES_SHOWN))
    io.stderr.write(`  ${issue.path}: ${issue.message}\n`);
  if (issues.length > MAX_ISSUES_SHOWN) io.stderr.write(`  … and ${issues.length - MAX_ISSUES_SHOWN} more\n`);
}

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  evaluate: evaluateCommand,
  stress: stressCommand,
  report: reportCommand,
  replay: replayCommand,
  notifications: notificationsCommand,
  explain: explainCommand,
  endpoints: endpointsCommand,
  demo: demoCommand,
  serve: serveCommand,
};

export async function main(argv: string[], io: Io = process): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    io.stdout.write(HELP);
    return command ? EXIT_OK : EXIT_BAD_INPUT;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.stderr.write(`backing: unknown command "${command}"\n\n${HELP}`);
    return EXIT_BAD_INPUT;
  }
  try {
    return await run(args, io);
  } catch (error) {
    if (error instanceof PortfolioInputError) {
      reportInputIssues(error, io);
      return EXIT_BAD_INPUT;
    }
    // By name: @backing/local (and the AWS SDK behind it) is loaded only by the commands that use it.
    if ((error as Error).name === "DynamoLocalError") {
      io.stderr.write(`backing ${command}: ${(error as Error).message}\n`);
      return EXIT_FAILURE;
    }
    if (error instanceof BadInputError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`backing ${command}: ${(error as Error).message}\n`);
      return EXIT_BAD_INPUT;
    }
    io.stderr.write(`backing ${command}: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}
