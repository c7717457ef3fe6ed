import type { ReplayReport, ReplayRun } from "@backing/contracts";
import { escapeHtml, formatAmount, STYLE, table } from "./exposure-html.ts";

/**
 * The replay report (DESIGN §3.12) as one self-contained page: the runs' totals side by side, then
 * per run the prices, the accounts by status and the insurance fund over the path, as inline SVG
 * line charts with labelled axes. No script, no CDN. Only line positions go through Number.
 */

const WIDTH = 760;
const HEIGHT = 190;
const PAD = { left: 78, right: 16, top: 14, bottom: 30 };
const STATUS_COLOURS: Record<string, string> = {
  HEALTHY: "var(--rise)",
  WARNING: "var(--warn)",
  MARGIN_CALL: "var(--share)",
  LIQUIDATION: "var(--fall)",
};
const SERIES_COLOURS = ["var(--share)", "var(--fall)", "var(--rise)", "var(--warn)", "var(--fg)"];

const shortTime = (iso: string) => iso.slice(5, 16).replace("T", " ");

/** A line chart over the timeline: y from 0 (or the series' low, `fromZero` false) to its high, unit named. */
function lineChart(
  label: string,
  unit: string,
  timestamps: readonly string[],
  series: readonly { name: string; colour: string; values: readonly number[] }[],
  fromZero: boolean,
  decimals: number,
): string {
  const all = series.flatMap((s) => s.values);
  const high = Math.max(...all, 0);
  const low = fromZero ? 0 : Math.min(...all);
  const span = high - low || 1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) =>
    PAD.left + (timestamps.length > 1 ? (i / (timestamps.length - 1)) * plotW : plotW / 2);
  const y = (v: number) => PAD.top + plotH - ((v - low) / span) * plotH;
  const ticks = [low, low + span / 2, high]
    .map(
      (v) =>
        `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${formatAmount(v.toFixed(decimals), decimals)}</text>`,
    )
    .join("");
  const xTicks = [0, Math.floor((timestamps.length - 1) / 2), timestamps.length - 1]
    .filter((i, n, list) => list.indexOf(i) === n && timestamps[i])
    .map(
      (i, n) =>
        // The first label starts at its point and the last ends at its point: none is cut off.
        `<text class="axis" x="${x(i).toFixed(1)}" y="${HEIGHT - 10}" text-anchor="${n === 0 ? "start" : i === timestamps.length - 1 ? "end" : "middle"}">${escapeHtml(shortTime(timestamps[i] as string))} UTC</text>`,
    )
    .join("");
  const lines = series
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.colour}" stroke-width="1.8" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"><title>${escapeHtml(s.name)}</title></polyline>`,
    )
    .join("");
  const legend = series
    .map(
      (s) =>
        `<span class="key"><span class="swatch" style="background:${s.colour}"></span>${escapeHtml(s.name)}</span>`,
    )
    .join(" ");
  return `<p class="muted">${escapeHtml(label)} (${escapeHtml(unit)}) ${legend}</p>
<svg class="chart" role="img" aria-label="${escapeHtml(label)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%">${ticks}${xTicks}${lines}</svg>`;
}

function runSection(run: ReplayRun): string {
  const times = run.timeline.map((t) => t.timestamp);
  const assets = Object.keys(run.timeline[0]?.prices ?? {}).filter((asset) =>
    run.timeline.some((t) => t.prices[asset] !== run.timeline[0]?.prices[asset]),
  );
  // Prices as a share of their first value, so BTC and SOL share one axis.
  const priceSeries = assets.map((asset, i) => {
    const first = Number(run.timeline[0]?.prices[asset]);
    return {
      name: asset,
      colour: SERIES_COLOURS[i % SERIES_COLOURS.length] as string,
      values: run.timeline.map((t) => (Number(t.prices[asset]) / first) * 100),
    };
  });
  const statusSeries = Object.keys(STATUS_COLOURS).map((status) => ({
    name: status,
    colour: STATUS_COLOURS[status] as string,
    values: run.timeline.map((t) => t.accountsByStatus[status as keyof typeof t.accountsByStatus]),
  }));
  const liquidated = Object.entries(run.accounts)
    .filter(([, a]) => a.fills.some((f) => f.kind === "liquidation"))
    .slice(0, 50);
  return `<section><h2>Run: parameters ${escapeHtml(run.paramsVersion)}</h2>
${lineChart("Prices, indexed to 100 at the first step", "first step = 100", times, priceSeries, false, 1)}
${lineChart("Accounts by status", "accounts", times, statusSeries, true, 0)}
${lineChart("Insurance fund", "USD", times, [{ name: "fund", colour: "var(--share)", values: run.timeline.map((t) => Number(t.insuranceFund)) }], false, 0)}
<h3>Liquidated accounts${liquidated.length === 50 ? " (first 50 by id)" : ""}</h3>
${
  liquidated.length === 0
    ? '<p class="muted">No account was liquidated on this path.</p>'
    : table(
        ["Account", "Fills", "Closed notional (USD)", "Fees (USD)", "Bad debt (USD)"],
        liquidated.map(([id, a]) => {
          const own = a.fills.filter((f) => f.kind === "liquidation");
          const notional = own.reduce((sum, f) => sum + Math.abs(Number(f.size) * Number(f.price)), 0);
          const fees = own.reduce((sum, f) => sum + Number(f.fee), 0);
          return [
            escapeHtml(id),
            String(own.length),
            formatAmount(notional.toFixed(2)),
            formatAmount(fees.toFixed(2)),
            formatAmount(a.badDebt),
          ];
        }),
      )
}
</section>`;
}

const TOTAL_ROWS: [string, keyof ReplayRun["totals"], boolean][] = [
  ["Margin calls", "calls", false],
  ["False alarms (cured without a deposit)", "falseAlarms", false],
  ["Top-ups", "topUps", false],
  ["Liquidations", "liquidations", false],
  ["Cures", "cures", false],
  ["Expired calls", "expiredCalls", false],
  ["Liquidated notional (USD)", "liquidatedNotional", true],
  ["Liquidation fees (USD)", "fees", true],
  ["Bad debt (USD)", "badDebt", true],
  ["Insurance fund used (USD)", "fundUsed", true],
  ["ADL notional (USD)", "adlNotional", true],
];

export function replayHtml(report: ReplayReport): string {
  const comparison = table(
    ["", ...report.runs.map((r) => escapeHtml(r.paramsVersion))],
    TOTAL_ROWS.map(([label, key, amount]) => [
      escapeHtml(label),
      ...report.runs.map((r) => (amount ? formatAmount(String(r.totals[key]), 2) : String(r.totals[key]))),
    ]),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backing replay ${escapeHtml(report.path)}</title><style>${STYLE}
.key { margin-left: 10px; white-space: nowrap; } .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }</style></head>
<body>
<h1>Replay: ${escapeHtml(report.path)}</h1>
<p class="muted">${report.steps} steps through the stateful engine, the venue liquidating through its model (DESIGN §3.12). ${report.runs.length} parameter set${report.runs.length === 1 ? "" : "s"}, compared side by side.</p>
<h2>Parameter sets compared</h2>
${comparison}
${report.runs.map(runSection).join("\n")}
</body></html>
`;
}
