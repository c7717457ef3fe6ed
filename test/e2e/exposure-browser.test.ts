import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_RISK_PARAMS, exposureReport, parsePortfolio } from "@backing/core";
import { demoBook, SCENARIOS } from "@backing/local";
import { exposureHtml } from "@backing/reports/exposure";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, launchChromium, watchedPage } from "../helpers/browser.ts";

describe("the exposure report in headless Chromium", () => {
  let browser: Browser;
  let url: string;
  let assets: string[];

  beforeAll(async () => {
    const start = SCENARIOS["ftx-2022"]?.path()[0];
    if (!start) throw new Error("no FTX path");
    const book = demoBook({
      accounts: 400,
      prices: start.prices,
      futureExpiry: "2022-12-30T08:00:00Z",
      optionExpiry: "2022-11-25T08:00:00Z",
    });
    const portfolio = parsePortfolio(
      {
        asOf: start.timestamp,
        prices: Object.fromEntries(Object.entries(start.prices).map(([asset, index]) => [asset, { index }])),
        volatility: { BTC: "0.9", ETH: "1.1", SOL: "1.3" },
        accounts: book,
      },
      DEFAULT_RISK_PARAMS,
    );
    const { report } = exposureReport(portfolio);
    assets = Object.keys(report.assets);
    await mkdir(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, "exposure.html");
    await writeFile(path, exposureHtml(report));
    url = pathToFileURL(path).href;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const scheme of ["light", "dark"] as const) {
    it(`renders every chart with non-zero size and no console error (${scheme})`, async () => {
      const { page, errors, requests } = await watchedPage(browser, {
        colorScheme: scheme,
        viewport: { width: 1200, height: 900 },
      });
      await page.goto(url);
      const charts = await page.$$eval("svg.chart", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const bars = [...svg.querySelectorAll("rect")].filter((r) => r.getBoundingClientRect().height > 0);
          return { kind: svg.getAttribute("class"), width: box.width, height: box.height, bars: bars.length };
        }),
      );
      // Per asset a heatmap, a CumLiq chart and concentration bars; one collateral composition.
      expect(charts.filter((c) => c.kind === "chart heatmap")).toHaveLength(assets.length);
      expect(charts.filter((c) => c.kind === "chart cumliq")).toHaveLength(assets.length);
      expect(charts.length).toBe(3 * assets.length + 1);
      for (const chart of charts) {
        expect(chart.width).toBeGreaterThan(100);
        expect(chart.height).toBeGreaterThan(20);
        expect(chart.bars).toBeGreaterThan(0);
      }
      const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
      expect(background).toBe(scheme === "dark" ? "rgb(17, 20, 24)" : "rgb(255, 255, 255)");
      await page.screenshot({ path: join(ARTIFACTS, `exposure-${scheme}.png`), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      await page.close();
    }, 60_000);
  }
});
