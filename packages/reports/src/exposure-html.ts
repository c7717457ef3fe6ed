import type { ExposureAsset, ExposureReport } from "@backing/contracts";

/**
 * The exposure report as one self-contained HTML page: inline CSS and SVG drawn here, no script,
 * no font or CDN, so it opens offline, prints, and follows the reader's light or dark scheme.
 * Figures are printed from the report's decimal strings; only bar lengths go through Number.
 */

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

/** 1234567.891 → "1,234,567.89" (from the string: no float rounding). */
export function formatAmount(value: string | null | undefined, decimals = 2): string {
  if (value === null || value === undefined) return "–";
  const negative = value.startsWith("-");
  const [whole = "0", fraction = ""] = value.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const shown = decimals > 0 ? `.${fraction.padEnd(decimals, "0").slice(0, decimals)}` : "";
  return `${negative ? "−" : ""}${grouped}${shown}`;
}

/** A fraction as a percentage, from the string: "0.375" → "37.50%". */
function formatShare(value: string | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const n = Number(value) * 100;
  return `${n.toFixed(2)}%`;
}

const formatMove = (move: string) =>
  `${move.startsWith("-") ? "−" : "+"}${(Math.abs(Number(move)) * 100).toFixed(0)}%`;

export function table(headers: string[], rows: string[][], numericFrom = 1): string {
  const head = headers
    .map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ""}>${escapeHtml(h)}</th>`)
    .join("");
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell, i) => `<td${i >= numericFrom ? ' class="num"' : ""}>${cell}</td>`).join("")}</tr>`,
    )
    .join("\n");
  return `<div class="table"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const WIDTH = 760;

/** Liquidation heatmap: stacked bars per price bin (falls red, rises green), the mark as a line. */
function heatmapChart(name: string, asset: ExposureAsset): string {
  const bins = asset.heatmap;
  const height = 220;
  const pad = { left: 64, right: 12, top: 16, bottom: 40 };
  const plotWidth = WIDTH - pad.left - pad.right;
  const plotHeight = height - pad.top - pad.bottom;
  const max = Math.max(...bins.map((b) => Number(b.notional)), 0);
  const barWidth = plotWidth / Math.max(bins.length, 1);
  const y = (v: number) => (max > 0 ? (v / max) * plotHeight : 0);
  const bars = bins
    .map((b, i) => {
      const x = pad.left + i * barWidth;
      const fall = y(Number(b.onFall));
      const rise = y(Number(b.onRise));
      const base = pad.top + plotHeight;
      const title = `<title>${escapeHtml(`${formatAmount(b.from)} – ${formatAmount(b.to)}: ${formatAmount(b.notional)} USD`)}</title>`;
      return `<g class="bin">${title}<rect class="fall" x="${x.toFixed(2)}" y="${(base - fall).toFixed(2)}" width="${Math.max(barWidth - 1, 1).toFixed(2)}" height="${fall.toFixed(2)}"/><rect class="rise" x="${x.toFixed(2)}" y="${(base - fall - rise).toFixed(2)}" width="${Math.max(barWidth - 1, 1).toFixed(2)}" height="${rise.toFixed(2)}"/></g>`;
    })
    .join("");
  const first = Number(bins[0]?.from ?? 0);
  const last = Number(bins[bins.length - 1]?.to ?? 1);
  const markX = pad.left + ((Number(asset.mark) - first) / (last - first || 1)) * plotWidth;
  const ticks = [
    0,
    Math.floor(bins.length / 4),
    Math.floor(bins.length / 2),
    Math.floor((3 * bins.length) / 4),
    bins.length,
  ]
    .map((i) => {
      const price = i < bins.length ? bins[i]?.from : bins[bins.length - 1]?.to;
      const x = pad.left + i * barWidth;
      const anchor = i === 0 ? "start" : i === bins.length ? "end" : "middle";
      return `<text class="tick" x="${x.toFixed(2)}" y="${height - 20}" text-anchor="${anchor}">${formatAmount(price, 0)}</text>`;
    })
    .join("");
  return `<svg class="chart heatmap" role="img" aria-label="${escapeHtml(`${name} liquidation heatmap`)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">
<text class="axis" x="4" y="${pad.top + 8}">${formatAmount(String(max), 0)}</text><text class="axis" x="4" y="${pad.top + plotHeight}">0</text>
<line class="grid" x1="${pad.left}" x2="${WIDTH - pad.right}" y1="${pad.top + plotHeight}" y2="${pad.top + plotHeight}"/>
${bars}
<line class="mark" x1="${markX.toFixed(2)}" x2="${markX.toFixed(2)}" y1="${pad.top}" y2="${pad.top + plotHeight}"/>
<text class="tick" x="${markX.toFixed(2)}" y="${pad.top - 4}" text-anchor="middle">mark ${formatAmount(asset.mark, 0)}</text>
${ticks}
<text class="axis" x="${pad.left}" y="${height - 4}">liquidation price (USD); bar: notional liquidated, red on a fall, green on a rise</text>
</svg>`;
}

/** CumLiq(Δ) per move as bars, each labelled with its LDR; cascade warnings drawn in the warning colour. */
function cumLiqChart(name: string, asset: ExposureAsset): string {
  const moves = Object.keys(asset.cumLiq);
  const height = 200;
  const pad = { left: 64, right: 12, top: 24, bottom: 36 };
  const plotWidth = WIDTH - pad.left - pad.right;
  const plotHeight = height - pad.top - pad.bottom;
  const max = Math.max(...moves.map((m) => Number(asset.cumLiq[m])), 0);
  const slot = plotWidth / moves.length;
  const bars = moves
    .map((move, i) => {
      const value = Number(asset.cumLiq[move]);
      const h = max > 0 ? (value / max) * plotHeight : 0;
      const x = pad.left + i * slot + slot * 0.15;
      const warning = asset.cascadeWarnings.includes(move);
      const ldr = asset.ldr[move];
      const label = ldr === null || ldr === undefined ? "" : `LDR ${Number(ldr).toFixed(2)}`;
      return `<g class="move${warning ? " warning" : ""}"><title>${escapeHtml(`${formatMove(move)}: ${formatAmount(asset.cumLiq[move])} USD${label ? `, ${label}` : ""}`)}</title><rect class="${move.startsWith("-") ? "fall" : "rise"}" x="${x.toFixed(2)}" y="${(pad.top + plotHeight - h).toFixed(2)}" width="${(slot * 0.7).toFixed(2)}" height="${h.toFixed(2)}"/><text class="tick" x="${(x + slot * 0.35).toFixed(2)}" y="${height - 20}" text-anchor="middle">${formatMove(move)}</text><text class="tick${warning ? " warn" : ""}" x="${(x + slot * 0.35).toFixed(2)}" y="${height - 6}" text-anchor="middle">${label}</text></g>`;
    })
    .join("");
  return `<svg class="chart cumliq" role="img" aria-label="${escapeHtml(`${name} cumulative liquidations`)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">
<text class="axis" x="4" y="${pad.top + 8}">${formatAmount(String(max), 0)}</text><text class="axis" x="4" y="${pad.top + plotHeight}">0</text>
<line class="grid" x1="${pad.left}" x2="${WIDTH - pad.right}" y1="${pad.top + plotHeight}" y2="${pad.top + plotHeight}"/>
${bars}
</svg>`;
}

/** Horizontal bars of fractions (0–1) with their labels. */
function shareBars(label: string, items: [string, string][]): string {
  const rowHeight = 22;
  const labelWidth = 150;
  const height = items.length * rowHeight + 8;
  const barSpace = WIDTH - labelWidth - 80;
  const rows = items
    .map(([name, share], i) => {
      const w = Math.max(0, Math.min(1, Number(share))) * barSpace;
      const y = 4 + i * rowHeight;
      return `<g><text class="tick" x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(name)}</text><rect class="share" x="${labelWidth}" y="${y + 3}" width="${w.toFixed(2)}" height="${rowHeight - 8}"/><text class="tick" x="${(labelWidth + w + 6).toFixed(2)}" y="${y + 15}">${formatShare(share)}</text></g>`;
    })
    .join("");
  return `<svg class="chart bars" role="img" aria-label="${escapeHtml(label)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">${rows}</svg>`;
}

export const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #5b6570; --line: #d8dde3; --card: #f5f7fa;
  --fall: #c0392b; --rise: #1e8449; --share: #2e6fbd; --warn: #b9770e; }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --fg: #e6e9ed; --muted: #9aa4ae; --line: #2e353d; --card: #1a1f25;
  --fall: #e2655a; --rise: #4cc27c; --share: #5b9be0; --warn: #f0b24a; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; } .muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; margin: 16px 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; } .card .value { font-size: 18px; font-variant-numeric: tabular-nums; }
.table { overflow-x: auto; } table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; } th { color: var(--muted); font-weight: 600; }
.num { text-align: right; }
.chart { display: block; margin: 6px 0 14px; } .chart text { fill: var(--fg); font-size: 11px; } .chart .axis { fill: var(--muted); }
.fall { fill: var(--fall); } .rise { fill: var(--rise); } .share { fill: var(--share); } .grid { stroke: var(--line); }
.mark { stroke: var(--fg); stroke-dasharray: 4 3; } .chart .warn { fill: var(--warn); font-weight: 700; }
.warning-text { color: var(--warn); font-weight: 600; }
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } .chart, table { break-inside: avoid; } }
`;

export function exposureHtml(report: ExposureReport): string {
  const assets = Object.entries(report.assets);
  const cards: [string, string][] = [
    ["Accounts", report.accounts.toLocaleString("en-US")],
    ["Equity (USD)", formatAmount(report.totals.equity, 0)],
    ["Initial margin", formatAmount(report.totals.initialMargin, 0)],
    ["Maintenance margin", formatAmount(report.totals.maintenanceMargin, 0)],
    ["Calls outstanding", formatAmount(report.totals.callAmount, 0)],
    ["Collateral after haircut", formatAmount(report.totals.collateralAfterHaircut, 0)],
    ...Object.entries(report.accountsByStatus).map(([status, n]): [string, string] => [
      status,
      n.toLocaleString("en-US"),
    ]),
  ];
  const warnings = assets.flatMap(([name, a]) => a.cascadeWarnings.map((m) => `${name} ${formatMove(m)}`));

  const assetSections = assets
    .map(
      ([name, a]) => `<section class="asset" id="asset-${escapeHtml(name)}">
<h3>${escapeHtml(name)} · mark ${formatAmount(a.mark)}</h3>
<p class="muted">Liquidation heatmap: ${formatAmount(a.liquidation.inHeatmap, 0)} USD liquidates inside ±${(Number(report.settings.range) * 100).toFixed(0)}%, ${formatAmount(a.liquidation.beyondHeatmap, 0)} beyond it.</p>
${heatmapChart(name, a)}
<p class="muted">Cumulative liquidations CumLiq(Δ)${a.depth ? " and liquidation-to-depth ratio" : " (no depth configured: no LDR)"}${a.cascadeWarnings.length ? ` · <span class="warning-text">cascade warning at ${a.cascadeWarnings.map(formatMove).join(", ")}</span>` : ""}</p>
${cumLiqChart(name, a)}
<p class="muted">Concentration: share of the largest accounts (gross and net)</p>
${shareBars(`${name} concentration`, [
  ["gross top 1", a.concentration.gross.top1],
  ["gross top 5", a.concentration.gross.top5],
  ["gross top 10", a.concentration.gross.top10],
  ["gross top 20", a.concentration.gross.top20],
  ["net top 1", a.concentration.net.top1],
  ["net top 5", a.concentration.net.top5],
  ["net top 10", a.concentration.net.top10],
  ["net top 20", a.concentration.net.top20],
])}
</section>`,
    )
    .join("\n");

  const changes = report.changes;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backing exposure report ${escapeHtml(report.asOf)}</title><style>${STYLE}</style></head>
<body>
<h1>Exposure report</h1>
<p class="muted">As of ${escapeHtml(report.asOf)} · parameters ${escapeHtml(report.paramsVersion)} · heatmap bins ${(Number(report.settings.binWidth) * 100).toFixed(2)}% over ±${(Number(report.settings.range) * 100).toFixed(0)}% · depth multiplier ${escapeHtml(report.settings.depthMultiplier)}</p>
<div class="cards">${cards.map(([label, value]) => `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${value}</div></div>`).join("")}</div>
${warnings.length ? `<p class="warning-text">Cascade warnings (liquidations exceed book depth): ${escapeHtml(warnings.join(", "))}</p>` : ""}

<h2>Positions by asset</h2>
${table(
  [
    "Asset",
    "Mark",
    "Long",
    "Short",
    "Net",
    "Gross",
    "Accounts",
    "Options Δ",
    "Γ$ / 1%",
    "Vega / pt",
    "HHI gross",
    "HHI net",
    "Eff. N gross",
    "Wrong-way",
  ],
  assets.map(([name, a]) => [
    escapeHtml(name),
    formatAmount(a.mark),
    formatAmount(a.long, 0),
    formatAmount(a.short, 0),
    formatAmount(a.net, 0),
    formatAmount(a.gross, 0),
    String(a.accounts),
    formatAmount(a.options.delta, 4),
    formatAmount(a.options.gammaDollar, 0),
    formatAmount(a.options.vega, 0),
    formatAmount(a.concentration.gross.hhi, 0),
    formatAmount(a.concentration.net.hhi, 0),
    formatAmount(a.concentration.gross.effectiveN, 1),
    `${a.wrongWay.accounts} · ${formatAmount(a.wrongWay.collateralAfterHaircut, 0)}`,
  ]),
)}

<h2>Liquidations and concentration</h2>
${assetSections}

<h2>Collateral</h2>
${shareBars(
  "collateral composition after haircut",
  Object.entries(report.collateral).map(([name, c]) => [name, c.share]),
)}
${table(
  [
    "Asset",
    "Amount",
    "Raw (USD)",
    "After haircut",
    "Share",
    "Accounts",
    "Depeg −1%",
    "Depeg −5%",
    "Depeg −13%",
  ],
  Object.entries(report.collateral).map(([name, c]) => [
    escapeHtml(name),
    formatAmount(c.amount, 4),
    formatAmount(c.raw, 0),
    formatAmount(c.afterHaircut, 0),
    formatShare(c.share),
    String(c.accounts),
    formatAmount(c.depeg?.["-0.01"], 0),
    formatAmount(c.depeg?.["-0.05"], 0),
    formatAmount(c.depeg?.["-0.13"], 0),
  ]),
)}

<h2>Closest to liquidation</h2>
${table(
  [
    "Account",
    "Venue",
    "Status",
    "Asset",
    "Mark",
    "Liquidation price",
    "Move to it",
    "Notional",
    "Equity",
    "MM",
  ],
  report.closestToLiquidation.map((r) => [
    escapeHtml(r.id),
    escapeHtml(r.venue),
    r.status,
    escapeHtml(r.asset),
    formatAmount(r.mark),
    formatAmount(r.liquidationPrice),
    formatShare(r.distance),
    formatAmount(r.notional, 0),
    formatAmount(r.equity, 0),
    formatAmount(r.maintenanceMargin, 0),
  ]),
  4,
)}

<h2>Auto-deleveraging exposure</h2>
<p class="muted">Profitable perps and futures, ranked by Binance's ADL score (max(0, uPnL)/max(1, wallet) × MM/(wallet + uPnL)): the first to be closed if a bankruptcy exhausts the insurance fund. "Deleveraged" is the notional the queue would give up if the largest stress scenario's bad debt past the fund fell on the asset alone.</p>
${table(
  ["Asset", "Profitable long", "Profitable short", "Deficit past fund", "Deleveraged", "Top of the queue"],
  Object.entries(report.assets).map(([name, a]) => [
    escapeHtml(name),
    formatAmount(a.adl.profitableNotional.long, 0),
    formatAmount(a.adl.profitableNotional.short, 0),
    a.adl.deficit === null ? "no stress report" : formatAmount(a.adl.deficit, 0),
    a.adl.deleveragedNotional === null
      ? "–"
      : `${formatAmount(a.adl.deleveragedNotional, 0)}${a.adl.coveredByQueue === false ? " (past the top 20)" : ""}`,
    escapeHtml(
      a.adl.queue
        .slice(0, 3)
        .map((r) => `${r.rank}. ${r.id} (${r.side})`)
        .join(", ") || "none",
    ),
  ]),
)}

${
  report.fundingAtRisk
    ? `<h2>Funding at the latest rates</h2>
<p class="muted">One interval's payments (positive: paid, negative: received). ${report.fundingAtRisk.count} account(s) would pay more than their distance to maintenance margin.</p>
${table(
  ["Asset", "Longs pay", "Shorts pay", "Net"],
  Object.entries(report.assets).flatMap(([name, a]) =>
    a.funding
      ? [
          [
            escapeHtml(name),
            formatAmount(a.funding.longsPay, 0),
            formatAmount(a.funding.shortsPay, 0),
            formatAmount(a.funding.net, 0),
          ],
        ]
      : [],
  ),
)}
${
  report.fundingAtRisk.accounts.length > 0
    ? table(
        ["Account", "Venue", "Next payment", "Distance to MM"],
        report.fundingAtRisk.accounts.map((r) => [
          escapeHtml(r.id),
          escapeHtml(r.venue),
          formatAmount(r.payment, 2),
          formatAmount(r.distanceToMaintenance, 2),
        ]),
        2,
      )
    : ""
}`
    : ""
}

<h2>Changes since the previous report</h2>
${
  changes
    ? `<p class="muted">Previous report: ${escapeHtml(changes.previousAsOf ?? "unknown")} · ${changes.newMarginCalls.count} new margin calls · ${changes.cured.count} cured</p>
${table(
  ["Change", "Account", "Venue", "From", "To", "Amount"],
  [
    ...changes.newMarginCalls.accounts.map((c) => [
      "new call",
      escapeHtml(c.id),
      escapeHtml(c.venue),
      c.from ?? "new",
      c.to,
      formatAmount(c.callAmount, 0),
    ]),
    ...changes.cured.accounts.map((c) => ["cured", escapeHtml(c.id), escapeHtml(c.venue), c.from, c.to, ""]),
    ...changes.largestEquityChanges.map((c) => [
      "equity",
      escapeHtml(c.id),
      escapeHtml(c.venue),
      formatAmount(c.before, 0),
      formatAmount(c.after, 0),
      formatAmount(c.change, 0),
    ]),
  ],
  5,
)}`
    : `<p class="muted">No previous report to compare with.</p>`
}
<p class="muted">Generated by Backing. Heatmap: each account's cross-margin liquidation price on the asset, all other prices fixed, weighted by its perp and future notional at the mark. Depth(Δ) = 1% depth × |Δ| / 1% × multiplier; LDR = CumLiq / Depth, above 1 a cascade warning.</p>
</body></html>
`;
}
