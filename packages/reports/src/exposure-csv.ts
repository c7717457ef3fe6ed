import type { ExposureReport } from "@backing/contracts";
import type { AccountStatus, ExposureAccountRow, PreviousAccount } from "@backing/core";
import { Decimal, STATUSES } from "@backing/core";
import type { UnwatchedAccount } from "@backing/engine";

type Cell = string | number | null | undefined;

const NUMBER = /^-?\d+(\.\d+)?$/;
/** What a spreadsheet may read as the start of a formula (OWASP, CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell. A text cell a spreadsheet would read as a formula (`=HYPERLINK(…)`, `@SUM(…)`,
 * `+1`, `-1+1`) is neutralised as OWASP advises: a leading `'` and quoted. Numbers stay numbers,
 * negative ones included.
 */
export function csvCell(value: Cell): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (FORMULA_START.test(text) && !NUMBER.test(text)) text = `'${text}`;
  return /[",\n\r']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A cell as written before csvCell neutralised it. */
const unneutralised = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

function csv(header: readonly string[], rows: readonly Cell[][]): string {
  return `${[header, ...rows].map((row) => row.map(csvCell).join(",")).join("\n")}\n`;
}

export const ACCOUNTS_CSV_HEADER = [
  "id",
  "venue",
  "status",
  "equity",
  "initialMargin",
  "maintenanceMargin",
  "callAmount",
] as const;

/** The `accounts` table, a row at a time: the next report's "changes since previous" reads it. */
export function accountsCsvRows(rows: readonly ExposureAccountRow[]): string {
  return rows.map((r) => `${ACCOUNTS_CSV_HEADER.map((column) => csvCell(r[column])).join(",")}\n`).join("");
}

export const accountsCsvHeader = `${ACCOUNTS_CSV_HEADER.join(",")}\n`;

/** Splits one CSV line written by `csvCell` (quoted cells may hold commas and doubled quotes). */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      cells.push(cell);
      cell = "";
    } else cell += char;
  }
  cells.push(cell);
  return cells.map(unneutralised);
}

export class PreviousReportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PreviousReportError";
  }
}

/** Reads a previous report's accounts.csv (account ids never hold a line break: the schema's ids are single-line). */
export function parseAccountsCsv(text: string): Map<string, PreviousAccount> {
  const lines = text.split("\n").filter((line) => line.length > 0);
  const header = lines.shift();
  if (header !== ACCOUNTS_CSV_HEADER.join(","))
    throw new PreviousReportError(`accounts.csv: expected the header "${ACCOUNTS_CSV_HEADER.join(",")}"`);
  const accounts = new Map<string, PreviousAccount>();
  for (const [i, line] of lines.entries()) {
    const [id, venue, status, equity] = splitCsvLine(line);
    if (
      !id ||
      !venue ||
      !STATUSES.includes(status as AccountStatus) ||
      !equity ||
      Number.isNaN(Number(equity))
    )
      throw new PreviousReportError(`accounts.csv line ${i + 2}: expected id, venue, status and equity`);
    accounts.set(id, { venue, status: status as AccountStatus, equity: new Decimal(equity) });
  }
  return accounts;
}

const MOVE_HEADER = (prefix: string, moves: readonly string[]) => moves.map((m) => `${prefix}${m}`);

/** Every table of the report except `accounts`, one CSV file each (name → content). */
export function exposureCsvTables(report: ExposureReport): Record<string, string> {
  const assets = Object.entries(report.assets);
  const depegMoves = Object.keys(Object.values(report.collateral).find((c) => c.depeg)?.depeg ?? {});
  return {
    "summary.csv": csv(
      [
        "asOf",
        "paramsVersion",
        "accounts",
        ...Object.keys(report.totals),
        ...Object.keys(report.accountsByStatus),
      ],
      [
        [
          report.asOf,
          report.paramsVersion,
          report.accounts,
          ...Object.values(report.totals),
          ...Object.values(report.accountsByStatus),
        ],
      ],
    ),
    "assets.csv": csv(
      [
        "asset",
        "mark",
        "long",
        "short",
        "net",
        "gross",
        "accounts",
        "optionPositions",
        "optionsDelta",
        "optionsDeltaNotional",
        "optionsGammaDollar",
        "optionsVega",
        "wrongWayAccounts",
        "wrongWayCollateral",
        "liquidationInHeatmap",
        "liquidationBeyondHeatmap",
        "noLiquidationPrice",
      ],
      assets.map(([name, a]) => [
        name,
        a.mark,
        a.long,
        a.short,
        a.net,
        a.gross,
        a.accounts,
        a.options.positions,
        a.options.delta,
        a.options.deltaNotional,
        a.options.gammaDollar,
        a.options.vega,
        a.wrongWay.accounts,
        a.wrongWay.collateralAfterHaircut,
        a.liquidation.inHeatmap,
        a.liquidation.beyondHeatmap,
        a.liquidation.noLiquidationPrice,
      ]),
    ),
    "options.csv": csv(
      ["asset", "bucket", "delta", "deltaNotional", "gammaDollar", "vega"],
      assets.flatMap(([name, a]) =>
        a.options.byExpiry.map((b) => [name, b.bucket, b.delta, b.deltaNotional, b.gammaDollar, b.vega]),
      ),
    ),
    "concentration.csv": csv(
      ["asset", "basis", "total", "top1", "top5", "top10", "top20", "hhi", "effectiveN"],
      assets.flatMap(([name, a]) =>
        (["gross", "net"] as const).map((basis) => {
          const c = a.concentration[basis];
          return [name, basis, c.total, c.top1, c.top5, c.top10, c.top20, c.hhi, c.effectiveN];
        }),
      ),
    ),
    "heatmap.csv": csv(
      ["asset", "from", "to", "notional", "onFall", "onRise"],
      assets.flatMap(([name, a]) =>
        a.heatmap.map((b) => [name, b.from, b.to, b.notional, b.onFall, b.onRise]),
      ),
    ),
    "cumliq.csv": csv(
      ["asset", "move", "cumLiq", "depth", "depthSource", "ldr", "cascadeWarning"],
      assets.flatMap(([name, a]) =>
        Object.entries(a.cumLiq).map(([move, value]) => [
          name,
          move,
          value,
          a.depth?.[move],
          a.depthSource,
          a.ldr[move],
          a.cascadeWarnings.includes(move) ? "yes" : "no",
        ]),
      ),
    ),
    "impact.csv": csv(
      ["asset", "notional", "impactBid", "impactAsk"],
      assets.flatMap(([name, a]) => (a.impact ?? []).map((r) => [name, r.notional, r.bid, r.ask])),
    ),
    "depth.csv": csv(
      ["asset", "snapshot", "side", "price", "cumulativeDepth"],
      assets.flatMap(([name, a]) =>
        a.book
          ? (["bids", "asks"] as const).flatMap((side) =>
              (a.book?.[side] ?? []).map((l) => [name, a.book?.timestamp, side, l.price, l.cumulative]),
            )
          : [],
      ),
    ),
    "collateral.csv": csv(
      [
        "asset",
        "amount",
        "raw",
        "afterHaircut",
        "share",
        "accounts",
        ...MOVE_HEADER("depegLoss", depegMoves),
      ],
      Object.entries(report.collateral).map(([name, c]) => [
        name,
        c.amount,
        c.raw,
        c.afterHaircut,
        c.share,
        c.accounts,
        ...depegMoves.map((m) => c.depeg?.[m]),
      ]),
    ),
    "closest.csv": csv(
      [
        "id",
        "venue",
        "status",
        "asset",
        "mark",
        "liquidationPrice",
        "distance",
        "notional",
        "equity",
        "maintenanceMargin",
      ],
      report.closestToLiquidation.map((r) => [
        r.id,
        r.venue,
        r.status,
        r.asset,
        r.mark,
        r.liquidationPrice,
        r.distance,
        r.notional,
        r.equity,
        r.maintenanceMargin,
      ]),
    ),
    // Funding at the latest rates: only the stateful engine's reports know rates.
    ...(report.fundingAtRisk
      ? {
          "funding.csv": csv(
            ["asset", "longsPay", "shortsPay", "net"],
            assets.flatMap(([name, a]) =>
              a.funding ? [[name, a.funding.longsPay, a.funding.shortsPay, a.funding.net]] : [],
            ),
          ),
          "funding-at-risk.csv": csv(
            ["id", "venue", "payment", "distanceToMaintenance"],
            report.fundingAtRisk.accounts.map((r) => [r.id, r.venue, r.payment, r.distanceToMaintenance]),
          ),
        }
      : {}),
    // The ADL queue per asset, in rank order (DESIGN §3.12).
    "adl-queue.csv": csv(
      ["asset", "rank", "id", "venue", "instrument", "side", "score", "notional", "profit"],
      assets.flatMap(([name, a]) =>
        a.adl.queue.map((r) => [
          name,
          r.rank,
          r.id,
          r.venue,
          r.instrument,
          r.side,
          r.score,
          r.notional,
          r.profit,
        ]),
      ),
    ),
    "changes.csv": csv(
      ["change", "id", "venue", "from", "to", "amount"],
      report.changes
        ? [
            ...report.changes.newMarginCalls.accounts.map((c) => [
              "new-margin-call",
              c.id,
              c.venue,
              c.from,
              c.to,
              c.callAmount,
            ]),
            ...report.changes.cured.accounts.map((c) => ["cured", c.id, c.venue, c.from, c.to, ""]),
            ...report.changes.largestEquityChanges.map((c) => [
              "equity-change",
              c.id,
              c.venue,
              c.before,
              c.after,
              c.change,
            ]),
          ]
        : [],
    ),
  };
}

/** `unwatched.csv`: the accounts no call can be made on (id, venue, since, reasons joined by "; "). */
export function unwatchedCsv(marks: readonly UnwatchedAccount[]): string {
  return csv(
    ["id", "venue", "since", "reasons"],
    marks.map((m) => [m.accountId, m.venue, new Date(m.sinceMs).toISOString(), m.reasons.join("; ")]),
  );
}
