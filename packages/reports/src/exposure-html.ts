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

/** A quantity as given, grouped, trailing zeros dropped (at most 8 decimals): "250000.0000" → "250,000". */
export function formatQuantity(value: string): string {
  const [whole = "0", fraction = ""] = value.split(".");
  const trimmed = fraction.slice(0, 8).replace(/0+$/, "");
  return `${formatAmount(whole, 0)}${trimmed ? `.${trimmed}` : ""}`;
}

/** An axis label: 12,500,000 → "12.5M" (the exact figure is in each bar's tooltip and the tables). */
function compact(value: number): string {
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [size, suffix] of units)
    if (Math.abs(value) >= size) return `${Number((value / size).toPrecision(3))}${suffix}`;
  return String(Number(value.toPrecision(3)));
}

/** A round axis step: about `count` ticks from 0 to at least `max`. */
function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Horizontal grid lines with labels at round values, the unit above the axis. */
function yAxis(
  ticks: readonly number[],
  y: (v: number) => number,
  pad: { left: number; right: number; top: number },
  unit: string,
  format: (v: number) => string = compact,
): string {
  return `${ticks
    .map(
      (v) =>
        `<line class="grid" x1="${pad.left}" x2="${WIDTH - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${format(v)}</text>`,
    )
    .join("")}<text class="axis" x="4" y="${pad.top - 6}">${escapeHtml(unit)}</text>`;
}

/** A fraction as a percentage, from the string: "0.375" → "37.50%". */
function formatShare(value: string | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const n = Number(value) * 100;
  return `${n.toFixed(2)}%`;
}

/** "−2.31%" (a fall), "+3.10%" (a rise), or "past by 5.07%" when the price is already beyond it. */
function moveToLiquidation(row: { mark: string; liquidationPrice: string; distance: string }): string {
  const distance = Number(row.distance);
  if (distance <= 0) return `past by ${(Math.abs(distance) * 100).toFixed(2)}%`;
  const rises = Number(row.liquidationPrice) > Number(row.mark);
  return `${rises ? "+" : "−"}${(distance * 100).toFixed(2)}%`;
}

const formatMove = (move: string) =>
  `${move.startsWith("-") ? "−" : "+"}${(Math.abs(Number(move)) * 100).toFixed(0)}%`;

/**
 * A table. On a narrow screen (under 900 px with 9 columns or more, under 640 px with 6 or more)
 * it stacks into one card per row, each cell labelled with its header, so no page scrolls
 * sideways. Without rows, `empty` says why.
 */
export function table(headers: string[], rows: string[][], numericFrom = 1, empty = "None."): string {
  if (rows.length === 0) return `<p class="muted empty">${escapeHtml(empty)}</p>`;
  const head = headers
    .map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ""}>${escapeHtml(h)}</th>`)
    .join("");
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell, i) => `<td${i >= numericFrom ? ' class="num"' : ""} data-label="${escapeHtml(headers[i] ?? "")}">${cell}</td>`).join("")}</tr>`,
    )
    .join("\n");
  const stack = headers.length >= 9 ? ' class="stack"' : headers.length >= 6 ? ' class="stack-narrow"' : "";
  return `<div class="table"><table${stack}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

const WIDTH = 760;

const PAD = { left: 64, right: 16, top: 26, bottom: 40 };

/** Liquidation heatmap: stacked bars per price bin (falls red, rises green), the mark as a line. */
function heatmapChart(name: string, asset: ExposureAsset, range: string): string {
  const bins = asset.heatmap;
  const max = Math.max(...bins.map((b) => Number(b.notional)), 0);
  if (max === 0)
    return `<p class="muted empty">No ${escapeHtml(name)} liquidation price lies within ±${percent(range)} of the mark: no heatmap to draw.</p>`;
  const height = 240;
  const { plotWidth, plotHeight, ticks, y } = plotArea(height, max);
  const barWidth = plotWidth / Math.max(bins.length, 1);
  const bars = bins
    .map((b, i) => {
      const x = PAD.left + i * barWidth;
      const fall = PAD.top + plotHeight - y(Number(b.onFall));
      const rise = PAD.top + plotHeight - y(Number(b.onRise));
      const base = PAD.top + plotHeight;
      const title = `<title>${escapeHtml(`${formatAmount(b.from)} – ${formatAmount(b.to)}: ${formatAmount(b.notional)} USD`)}</title>`;
      return `<g class="bin">${title}<rect class="fall" x="${x.toFixed(2)}" y="${(base - fall).toFixed(2)}" width="${Math.max(barWidth - 1, 1).toFixed(2)}" height="${fall.toFixed(2)}"/><rect class="rise" x="${x.toFixed(2)}" y="${(base - fall - rise).toFixed(2)}" width="${Math.max(barWidth - 1, 1).toFixed(2)}" height="${rise.toFixed(2)}"/></g>`;
    })
    .join("");
  const first = Number(bins[0]?.from ?? 0);
  const last = Number(bins[bins.length - 1]?.to ?? 1);
  const markX = PAD.left + ((Number(asset.mark) - first) / (last - first || 1)) * plotWidth;
  const xTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const i = Math.round(f * bins.length);
      const price = i < bins.length ? bins[i]?.from : bins[bins.length - 1]?.to;
      const anchor = f === 0 ? "start" : f === 1 ? "end" : "middle";
      return `<text class="tick" x="${(PAD.left + i * barWidth).toFixed(2)}" y="${height - 22}" text-anchor="${anchor}">${formatAmount(price, 0)}</text>`;
    })
    .join("");
  return `<svg class="chart heatmap" role="img" aria-label="${escapeHtml(`${name} liquidation heatmap`)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">
${yAxis(ticks, y, PAD, "notional liquidated (USD)")}
${bars}
<line class="mark" x1="${markX.toFixed(2)}" x2="${markX.toFixed(2)}" y1="${PAD.top}" y2="${PAD.top + plotHeight}"/>
<text class="tick" x="${markX.toFixed(2)}" y="${PAD.top + 10}" text-anchor="middle">mark ${formatAmount(asset.mark, 0)}</text>
${xTicks}
<text class="axis" x="${PAD.left}" y="${height - 4}">liquidation price (USD) · red: liquidated on a fall, green: on a rise</text>
</svg>`;
}

/** A plot area of `height`: a value axis from 0 to a round top at or above `max`, and its scale. */
function plotArea(height: number, max: number) {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = height - PAD.top - PAD.bottom;
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1] as number;
  const y = (v: number) => PAD.top + plotHeight - (v / top) * plotHeight;
  return { plotWidth, plotHeight, ticks, y };
}

/**
 * One bar per move, evenly spaced, each labelled with its move under the axis (and its value above
 * the bar, when given).
 */
function moveBars(
  moves: readonly string[],
  height: number,
  plot: { plotWidth: number; plotHeight: number; y: (v: number) => number },
  barOf: (move: string) => { value: number; warning: boolean; fill: string; title: string; label?: string },
): string {
  const slot = plot.plotWidth / moves.length;
  const bottom = PAD.top + plot.plotHeight;
  return moves
    .map((move, i) => {
      const bar = barOf(move);
      const x = PAD.left + i * slot + slot * 0.15;
      const top = plot.y(bar.value);
      const centre = (x + slot * 0.35).toFixed(2);
      const tick = `tick${bar.warning ? " warn" : ""}`;
      const label =
        bar.label === undefined
          ? ""
          : `<text class="${tick}" x="${centre}" y="${(top - 4).toFixed(2)}" text-anchor="middle">${bar.label}</text>`;
      return `<g class="move${bar.warning ? " warning" : ""}"><title>${escapeHtml(bar.title)}</title><rect class="${bar.fill}" x="${x.toFixed(2)}" y="${top.toFixed(2)}" width="${(slot * 0.7).toFixed(2)}" height="${(bottom - top).toFixed(2)}"/>${label}<text class="${tick}" x="${centre}" y="${height - 22}" text-anchor="middle">${formatMove(move)}</text></g>`;
    })
    .join("");
}

const percent = (fraction: string) => `${Number((Number(fraction) * 100).toPrecision(6))}%`;

/** CumLiq(Δ) per move as bars on a USD axis; cascade warnings in the warning colour. */
function cumLiqChart(name: string, asset: ExposureAsset): string {
  const moves = Object.keys(asset.cumLiq);
  const max = Math.max(...moves.map((m) => Number(asset.cumLiq[m])), 0);
  if (max === 0)
    return `<p class="muted empty">No ${escapeHtml(name)} position is liquidated by any of the moves ${moves.map(formatMove).join(", ")}.</p>`;
  const height = 210;
  const plot = plotArea(height, max);
  const { ticks, y } = plot;
  const bars = moveBars(moves, height, plot, (move) => {
    const ldr = asset.ldr[move];
    const label = ldr === null || ldr === undefined ? "" : `, LDR ${Number(ldr).toFixed(2)}`;
    return {
      value: Number(asset.cumLiq[move]),
      warning: asset.cascadeWarnings.includes(move),
      fill: move.startsWith("-") ? "fall" : "rise",
      title: `${formatMove(move)}: ${formatAmount(asset.cumLiq[move])} USD${label}`,
    };
  });
  return `<svg class="chart cumliq" role="img" aria-label="${escapeHtml(`${name} cumulative liquidations`)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">
${yAxis(ticks, y, PAD, "CumLiq (USD)")}
${bars}
<text class="axis" x="${PAD.left}" y="${height - 4}">price move from the mark · bar: notional liquidated by a move that far</text>
</svg>`;
}

/** LDR per move on a ratio axis with the LDR = 1 line: above it, liquidations exceed the book. */
function ldrChart(name: string, asset: ExposureAsset): string {
  const moves = Object.keys(asset.ldr).filter((m) => asset.ldr[m] !== null);
  if (moves.length === 0) return "";
  if (moves.every((m) => Number(asset.ldr[m]) === 0))
    return `<p class="muted empty">Nothing on ${escapeHtml(name)} liquidates within these moves: the ratio is 0 at every move.</p>`;
  const height = 190;
  const max = Math.max(1.25, ...moves.map((m) => Number(asset.ldr[m])));
  const plot = plotArea(height, max);
  const { ticks, y } = plot;
  const bars = moveBars(moves, height, plot, (move) => {
    const value = Number(asset.ldr[move]);
    const warning = asset.cascadeWarnings.includes(move);
    return {
      value,
      warning,
      fill: warning ? "warnbar" : "share",
      title: `${formatMove(move)}: LDR ${asset.ldr[move]}`,
      label: value.toFixed(2),
    };
  });
  return `<svg class="chart ldr" role="img" aria-label="${escapeHtml(`${name} liquidation-to-depth ratio`)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">
${yAxis(ticks, y, PAD, "LDR (CumLiq ÷ depth)", (v) => String(v))}
${bars}
<line class="reference" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}"/>
<text class="axis" x="${PAD.left}" y="${height - 4}">price move from the mark · dashed: LDR = 1, liquidations equal the depth; above it a cascade warning</text>
</svg>`;
}

/** Depth per side (from the book's levels, or the params' uniform depth) as points on the price axis. */
function depthPoints(
  asset: ExposureAsset,
): { falling: [number, number][]; rising: [number, number][] } | null {
  const mark = Number(asset.mark);
  if (asset.book) {
    const points = (levels: { price: string; cumulative: string }[]): [number, number][] => [
      [mark, 0],
      ...levels.map((l): [number, number] => [Number(l.price), Number(l.cumulative)]),
    ];
    return { falling: points(asset.book.bids), rising: points(asset.book.asks) };
  }
  if (!asset.depth) return null;
  const side = (fall: boolean): [number, number][] => [
    [mark, 0],
    ...Object.entries(asset.depth ?? {})
      .filter(([move]) => move.startsWith("-") === fall)
      .map(([move, usd]): [number, number] => [mark * (1 + Number(move)), Number(usd)])
      .sort((a, b) => (fall ? b[0] - a[0] : a[0] - b[0])),
  ];
  return { falling: side(true), rising: side(false) };
}

/** Cumulative liquidations from the mark outward, from the heatmap's bins (the already-past at the mark). */
function liquidationPoints(asset: ExposureAsset): {
  falling: [number, number][];
  rising: [number, number][];
} {
  const mark = Number(asset.mark);
  const bins = asset.heatmap.map((b) => ({
    from: Number(b.from),
    to: Number(b.to),
    fall: Number(b.onFall),
    rise: Number(b.onRise),
  }));
  let fall = bins.filter((b) => b.from >= mark).reduce((sum, b) => sum + b.fall, 0);
  const falling: [number, number][] = [[mark, fall]];
  for (const b of bins.filter((b) => b.from < mark).reverse()) {
    fall += b.fall;
    falling.push([b.from, fall]);
  }
  let rise = bins.filter((b) => b.to <= mark).reduce((sum, b) => sum + b.rise, 0);
  const rising: [number, number][] = [[mark, rise]];
  for (const b of bins.filter((b) => b.to > mark)) {
    rise += b.rise;
    rising.push([b.to, rise]);
  }
  return { falling, rising };
}

/**
 * Depth against cumulative liquidations on one price axis: left of the mark the bids and the longs
 * liquidated on a fall, right of it the asks and the shorts liquidated on a rise. Where the
 * liquidation line rises above the depth line, forced flow exceeds the book within that move.
 */
function depthChart(name: string, asset: ExposureAsset, range: string): string {
  const depth = depthPoints(asset);
  if (!depth) return "";
  const liquidations = liquidationPoints(asset);
  const mark = Number(asset.mark);
  const low = mark * (1 - Number(range));
  const high = mark * (1 + Number(range));
  const inRange = (points: [number, number][]) => points.filter(([p]) => p >= low && p <= high);
  const liquidated = [liquidations.falling, liquidations.rising].flatMap(inRange);
  // Nothing liquidating in range leaves nothing to set against the book.
  if (!liquidated.some(([, v]) => v > 0)) return "";
  const all = [depth.falling, depth.rising].flatMap(inRange).concat(liquidated);
  const max = Math.max(...all.map(([, v]) => v), 0);
  const height = 250;
  const { plotWidth, plotHeight, ticks, y } = plotArea(height, max);
  const x = (p: number) => PAD.left + ((p - low) / (high - low)) * plotWidth;
  // A step line: depth and liquidations both hold their value until the next point.
  const steps = (points: [number, number][], cssClass: string) => {
    const shown = inRange(points);
    if (shown.length === 0) return "";
    let d = `M${x((shown[0] as [number, number])[0]).toFixed(1)},${y((shown[0] as [number, number])[1]).toFixed(1)}`;
    for (let i = 1; i < shown.length; i++) {
      const [p, v] = shown[i] as [number, number];
      d += ` H${x(p).toFixed(1)} V${y(v).toFixed(1)}`;
    }
    return `<path class="${cssClass}" d="${d}"/>`;
  };
  const xTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const price = low + f * (high - low);
      const anchor = f === 0 ? "start" : f === 1 ? "end" : "middle";
      return `<text class="tick" x="${x(price).toFixed(1)}" y="${height - 22}" text-anchor="${anchor}">${formatAmount(price.toFixed(0), 0)}</text>`;
    })
    .join("");
  return `<svg class="chart depth" role="img" aria-label="${escapeHtml(`${name} depth against cumulative liquidations`)}" viewBox="0 0 ${WIDTH} ${height}" width="100%">
${yAxis(ticks, y, PAD, "USD from the mark")}
${steps(depth.falling, "depth-line")}${steps(depth.rising, "depth-line")}
${steps(liquidations.falling, "liq-line fall-line")}${steps(liquidations.rising, "liq-line rise-line")}
<line class="mark" x1="${x(mark).toFixed(1)}" x2="${x(mark).toFixed(1)}" y1="${PAD.top}" y2="${PAD.top + plotHeight}"/>
<text class="tick" x="${x(mark).toFixed(1)}" y="${PAD.top + 10}" text-anchor="middle">mark ${formatAmount(asset.mark, 0)}</text>
${xTicks}
<text class="axis" x="${PAD.left}" y="${height - 4}">price (USD) · blue: ${asset.book ? "the book's" : "configured"} depth from the mark · red/green: cumulative liquidations on a fall/rise</text>
</svg>`;
}

/** Depth against liquidations, the LDR with its reference line, and impact prices, where depth is known. */
function depthSection(name: string, a: ExposureAsset, range: string): string {
  if (!a.depth)
    return `<p class="muted">No depth for ${escapeHtml(name)} (no book posted, none in the parameters): no liquidation-to-depth ratio.</p>`;
  const source = a.book
    ? `the venue's book of ${escapeHtml(a.book.timestamp)}`
    : "the parameters' 1% depth on a uniform book";
  const impact = a.impact
    ? table(
        ["Notional (USD)", "Impact bid", "Impact ask"],
        a.impact.map((row) => [
          formatAmount(row.notional, 0),
          row.bid === null ? "past the book" : formatAmount(row.bid),
          row.ask === null ? "past the book" : formatAmount(row.ask),
        ]),
        0,
      )
    : "";
  const chart = depthChart(name, a, range);
  return `<p class="muted">Depth from ${source}, against cumulative liquidations on the same price axis</p>
${chart || `<p class="muted empty">Nothing on ${escapeHtml(name)} liquidates within ±${percent(range)} of the mark: no liquidations to set against the depth.</p>`}
<p class="muted">Liquidation-to-depth ratio by move</p>
${ldrChart(name, a) || `<p class="muted empty">No level of the book within these moves: no ratio.</p>`}
${impact ? `<p class="muted">Impact prices: the average fill of a market order of each notional against the book (200 USDT ÷ IMR at the maximum leverage, then $1M and $10M)</p>\n${impact}` : ""}`;
}

/**
 * The share of the largest accounts; a top N covering every account is 100% by definition, so only
 * the tops smaller than the book are drawn.
 */
function concentrationSection(name: string, a: ExposureAsset): string {
  const accounts = a.accounts;
  if (accounts <= 1)
    return `<p class="muted">Concentration: ${accounts === 1 ? "one account holds every position" : "no positions"}, so every top-N share is 100%.</p>`;
  const tops = ([1, 5, 10, 20] as const).filter((n) => n < accounts);
  return `<p class="muted">Concentration: share of the largest accounts (gross and net; with ${accounts} accounts, a top ${accounts} or more is 100% and not drawn)</p>
${shareBars(`${name} concentration`, [
  ...tops.map((n): [string, string] => [`gross top ${n}`, a.concentration.gross[`top${n}`]]),
  ...tops.map((n): [string, string] => [`net top ${n}`, a.concentration.net[`top${n}`]]),
])}`;
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

/** A table of class `name` as one card per row: each cell beside its header's label. */
const stacked = (name: string) => `
  table.${name} thead { display: none; }
  table.${name}, table.${name} tbody, table.${name} tr, table.${name} td { display: block; width: 100%; }
  table.${name} tr { border-bottom: 2px solid var(--line); padding: 4px 0; }
  table.${name} td { display: flex; justify-content: space-between; gap: 12px; border: 0; padding: 2px 4px; text-align: right; }
  table.${name} td::before { content: attr(data-label); color: var(--muted); text-align: left; }`;

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
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; } th { color: var(--muted); font-weight: 600; vertical-align: bottom; }
td:not(.num) { overflow-wrap: anywhere; }
.num { text-align: right; }
@media (max-width: 900px) { body { padding: 12px; } th, td { padding: 4px 5px; } ${stacked("stack")} }
@media (max-width: 640px) { ${stacked("stack-narrow")} }
.chart { display: block; margin: 6px 0 14px; } .chart text { fill: var(--fg); font-size: 11px; } .chart .axis { fill: var(--muted); }
.fall { fill: var(--fall); } .rise { fill: var(--rise); } .share { fill: var(--share); } .grid { stroke: var(--line); }
.mark { stroke: var(--fg); stroke-dasharray: 4 3; } .chart .warn { fill: var(--warn); font-weight: 700; }
.reference { stroke: var(--warn); stroke-width: 1.5; stroke-dasharray: 6 4; } .warnbar { fill: var(--warn); }
.depth-line, .liq-line { fill: none; stroke-width: 2; } .depth-line { stroke: var(--share); }
.fall-line { stroke: var(--fall); } .rise-line { stroke: var(--rise); }
.warning-text { color: var(--warn); font-weight: 600; }
@media print { body { max-width: none; padding: 0; font-size: 10px; } th, td { padding: 2px 4px; }
  h2 { break-after: avoid; } .chart, tr { break-inside: avoid; } }
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
<p class="muted">Liquidation heatmap: ${formatAmount(a.liquidation.inHeatmap, 0)} USD liquidates inside ±${percent(report.settings.range)}, ${formatAmount(a.liquidation.beyondHeatmap, 0)} beyond it.</p>
${heatmapChart(name, a, report.settings.range)}
<p class="muted">Cumulative liquidations CumLiq(Δ)${a.cascadeWarnings.length ? ` · <span class="warning-text">cascade warning at ${a.cascadeWarnings.map(formatMove).join(", ")}</span>` : ""}</p>
${cumLiqChart(name, a)}
${depthSection(name, a, report.settings.range)}
${concentrationSection(name, a)}
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
<p class="muted">Perps and futures at |size| × mark, in USD.</p>
${table(
  ["Asset", "Mark", "Long", "Short", "Net", "Gross", "Accounts", "Wrong-way collateral"],
  assets.map(([name, a]) => [
    escapeHtml(name),
    formatAmount(a.mark),
    formatAmount(a.long, 0),
    formatAmount(a.short, 0),
    formatAmount(a.net, 0),
    formatAmount(a.gross, 0),
    String(a.accounts),
    `${a.wrongWay.accounts} acct · ${formatAmount(a.wrongWay.collateralAfterHaircut, 0)}`,
  ]),
  1,
  "No positions.",
)}
<h3>Options and concentration</h3>
${table(
  ["Asset", "Options Δ", "Γ$ / 1%", "Vega / pt", "HHI gross", "HHI net", "Eff. N gross"],
  assets.map(([name, a]) => [
    escapeHtml(name),
    formatAmount(a.options.delta, 4),
    formatAmount(a.options.gammaDollar, 0),
    formatAmount(a.options.vega, 0),
    formatAmount(a.concentration.gross.hhi, 0),
    formatAmount(a.concentration.net.hhi, 0),
    formatAmount(a.concentration.gross.effectiveN, 1),
  ]),
  1,
  "No positions.",
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
    formatQuantity(c.amount),
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
    moveToLiquidation(r),
    formatAmount(r.notional, 0),
    formatAmount(r.equity, 0),
    formatAmount(r.maintenanceMargin, 0),
  ]),
  4,
  "No account has a liquidation price: no single price move can liquidate any of them.",
)}
${report.closestToLiquidation.length > 0 ? `<p class="muted">Move to it: the change in the asset's price, from the mark and with every other price fixed, that brings the account to its liquidation price: − a fall (a long's risk), + a rise (a short's). "Past by" means the price is already beyond it by that much, and the account is in liquidation.</p>` : ""}

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
<p class="muted">Generated by Backing. Heatmap: each account's cross-margin liquidation price on the asset, all other prices fixed, weighted by its perp and future notional at the mark. Depth(Δ): with the venue's book, Σ price × size of its levels between the mark and mark × (1 + Δ), the book moved to the mark; otherwise 1% depth × |Δ| / 1% from the parameters; either × the depth multiplier. LDR = CumLiq / Depth, above 1 a cascade warning.</p>
</body></html>
`;
}
