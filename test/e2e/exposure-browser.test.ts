import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_RISK_PARAMS, exposureReport, parsePortfolio } from "@backing/core";
import { demoBook, demoDepth, SCENARIOS } from "@backing/local";
import { exposureHtml } from "@backing/reports/exposure";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, launchChromium, watchedPage } from "../helpers/browser.ts";

/** Writes a report's page to the artifacts and returns its file URL. */
async function page(name: string, document: Record<string, unknown>) {
  const { report } = exposureReport(parsePortfolio(document, DEFAULT_RISK_PARAMS));
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.html`);
  await writeFile(path, exposureHtml(report));
  return { url: pathToFileURL(path).href, assets: Object.keys(report.assets) };
}

/** Every chart on the page: its class, size, and how many visible bars and lines it draws. */
const chartsOf = (p: Page) =>
  p.$$eval("svg.chart", (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const bars = [...svg.querySelectorAll("rect")].filter((r) => r.getBoundingClientRect().height > 0);
      const lines = [...svg.querySelectorAll("path")].filter((l) => l.getBoundingClientRect().width > 0);
      return {
        kind: svg.getAttribute("class"),
        width: box.width,
        height: box.height,
        marks: bars.length + lines.length,
      };
    }),
  );

/** How far the page, or any table in it, reaches past the viewport's width (0: no sideways scroll). */
// Page functions run in the browser: strings, as the tests' TypeScript has no DOM types.
const overflow = (p: Page) =>
  p.evaluate<number>(`(() => {
    const page = document.documentElement.scrollWidth - window.innerWidth;
    const tables = [...document.querySelectorAll("table")].map(
      (t) => t.getBoundingClientRect().right - document.documentElement.clientWidth,
    );
    return Math.max(page, ...tables, 0);
  })()`);

/** Where the first visible "Eff. N gross" (a header, or a stacked card's label) sits. */
const effectiveNCell = (p: Page) =>
  p.evaluate<{ right: number; width: number } | null>(`(() => {
    const cell = [...document.querySelectorAll("th, td")].find(
      (c) =>
        (c.textContent === "Eff. N gross" || c.getAttribute("data-label") === "Eff. N gross") &&
        c.getBoundingClientRect().width > 0,
    );
    const box = cell?.getBoundingClientRect();
    return box ? { right: box.right, width: box.width } : null;
  })()`);

describe("the exposure report in headless Chromium", () => {
  let browser: Browser;
  let book: { url: string; assets: string[] };
  let single: { url: string; assets: string[] };

  beforeAll(async () => {
    const start = SCENARIOS["ftx-2022"]?.path()[0];
    if (!start) throw new Error("no FTX path");
    const prices = Object.fromEntries(
      Object.entries(start.prices).map(([asset, index]) => [asset, { index }]),
    );
    const volatility = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
    // The venues' books as the demo posts them, a third as deep, so liquidations meet them.
    const depth = demoDepth(start.prices, { BTC: "2000000", ETH: "1000000", SOL: "300000" }, start.timestamp);
    book = await page("exposure", {
      asOf: start.timestamp,
      prices,
      volatility,
      depth: Object.fromEntries(depth.map((d) => [d.asset, d])),
      accounts: demoBook({
        accounts: 400,
        prices: start.prices,
        futureExpiry: "2022-12-30T08:00:00Z",
        optionExpiry: "2022-11-25T08:00:00Z",
      }),
    });
    // One account, far from liquidation: the page must say so rather than draw empty charts.
    single = await page("exposure-one-account", {
      asOf: start.timestamp,
      prices,
      volatility,
      accounts: [
        {
          id: "only",
          venue: "venue-a",
          collateral: { USDC: "250000.0000", BTC: "1.5" },
          positions: [
            { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "0.1", entryPrice: "20000" },
          ],
        },
      ],
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const scheme of ["light", "dark"] as const) {
    it(`renders every chart with non-zero size and no console error (${scheme})`, async () => {
      const {
        page: p,
        errors,
        requests,
      } = await watchedPage(browser, {
        colorScheme: scheme,
        viewport: { width: 1200, height: 900 },
      });
      await p.goto(book.url);
      const charts = await chartsOf(p);
      // Per asset: the heatmap, CumLiq, depth against liquidations, LDR and concentration bars;
      // one collateral composition.
      for (const kind of ["heatmap", "cumliq", "depth", "ldr"])
        expect(charts.filter((c) => c.kind === `chart ${kind}`)).toHaveLength(book.assets.length);
      expect(charts.length).toBe(5 * book.assets.length + 1);
      for (const chart of charts) {
        expect(chart.width).toBeGreaterThan(100);
        expect(chart.height).toBeGreaterThan(20);
        expect(chart.marks).toBeGreaterThan(0);
      }
      // The depth chart draws both the book and the liquidations, and the LDR chart its line at 1.
      const depthLines = await p.$$eval("svg.chart.depth path.depth-line", (paths) => paths.length);
      expect(depthLines).toBe(2 * book.assets.length);
      expect(await p.$$eval("svg.chart.ldr line.reference", (lines) => lines.length)).toBe(
        book.assets.length,
      );
      const background = await p.evaluate("getComputedStyle(document.body).backgroundColor");
      expect(background).toBe(scheme === "dark" ? "rgb(17, 20, 24)" : "rgb(255, 255, 255)");
      await p.screenshot({ path: join(ARTIFACTS, `exposure-${scheme}.png`), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      await p.close();
    }, 60_000);
  }

  for (const width of [1400, 800]) {
    it(`reads without sideways scrolling at ${width} px, "Eff. N gross" in view`, async () => {
      const { page: p, errors } = await watchedPage(browser, { viewport: { width, height: 900 } });
      for (const [name, report] of [
        ["book", book],
        ["one-account", single],
      ] as const) {
        await p.goto(report.url);
        expect(await overflow(p)).toBeLessThanOrEqual(0);
        // The last column of the positions tables is on screen (a header at 1,400 px, a card label at 800).
        const effectiveN = await effectiveNCell(p);
        expect(effectiveN?.width).toBeGreaterThan(0);
        expect(effectiveN?.right).toBeLessThanOrEqual(width);
        await p.screenshot({ path: join(ARTIFACTS, `exposure-${name}-${width}.png`), fullPage: true });
      }
      expect(errors).toEqual([]);
      await p.close();
    }, 60_000);
  }

  it("prints whole: on an A4 page's width no table is cut", async () => {
    // A4 at 96 dpi less Chromium's default margins: 794 − 2 × 38 px.
    const { page: p, errors } = await watchedPage(browser, { viewport: { width: 718, height: 1000 } });
    await p.goto(book.url);
    await p.emulateMedia({ media: "print" });
    expect(await overflow(p)).toBeLessThanOrEqual(0);
    await p.pdf({ path: join(ARTIFACTS, "exposure.pdf"), format: "A4" });
    expect(errors).toEqual([]);
    await p.close();
  }, 60_000);

  it("says what a one-account book lacks instead of drawing blank charts and empty tables", async () => {
    const { page: p } = await watchedPage(browser, { viewport: { width: 1400, height: 900 } });
    await p.goto(single.url);
    for (const chart of await chartsOf(p)) expect(chart.marks).toBeGreaterThan(0);
    // No table without rows, and no 100 % top-5/10/20 bars.
    expect(
      await p.$$eval(
        "table",
        (tables) => tables.filter((t) => t.querySelectorAll("tbody tr").length === 0).length,
      ),
    ).toBe(0);
    const text = await p.evaluate<string>("document.body.innerText");
    expect(text).toContain("one account holds every position");
    expect(text).toContain("no liquidations to set against the depth");
    expect(text).not.toContain("Move to it:");
    expect(text).not.toContain("gross top 5");
    // Collateral amounts as given, without padding: 250,000 and 1.5.
    expect(text).toMatch(/USDC\s+250,000\s/);
    expect(text).toMatch(/BTC\s+1\.5\s/);
    await p.close();
  }, 60_000);
});
