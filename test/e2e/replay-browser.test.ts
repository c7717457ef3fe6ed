import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ARTIFACTS, launchChromium, watchedPage } from "../helpers/browser.ts";
import { ROOT, runCli } from "../helpers/cli.ts";

const EXAMPLE = join(ROOT, "examples", "replay");

describe("the replay report in headless Chromium", () => {
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    // The README's worked example: two parameter sets over the same path.
    const out = await mkdtemp(join(tmpdir(), "backing-replay-html-"));
    const result = await runCli(
      [
        "replay",
        join(EXAMPLE, "book.json"),
        join(EXAMPLE, "path.csv"),
        "--params",
        join(EXAMPLE, "loose.json"),
        "--params",
        join(EXAMPLE, "tight.json"),
        "--top-up",
        "0.5",
        "--format",
        "html",
        "--out",
        out,
      ],
      { env: { ...process.env, BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint") } },
    );
    expect(result.code, result.stderr).toBe(0);
    url = pathToFileURL(join(out, "replay.html")).href;
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const width of [1400, 800]) {
    it(`draws prices, statuses and the fund per run, labelled, with no horizontal scroll (${width} px)`, async () => {
      const { page, errors, requests } = await watchedPage(browser, { viewport: { width, height: 900 } });
      await page.goto(url);
      const charts = await page.$$eval("svg.chart", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const lines = [...svg.querySelectorAll("polyline")].filter(
            (l) => l.getBoundingClientRect().width > 0,
          );
          const labels = [...svg.querySelectorAll("text.axis")].map((t) => t.textContent ?? "");
          return { label: svg.getAttribute("aria-label"), width: box.width, lines: lines.length, labels };
        }),
      );
      // Two runs (loose, tight), three charts each.
      expect(charts.map((c) => c.label)).toEqual([
        "Prices, indexed to 100 at the first step",
        "Accounts by status",
        "Insurance fund",
        "Prices, indexed to 100 at the first step",
        "Accounts by status",
        "Insurance fund",
      ]);
      for (const chart of charts) {
        expect(chart.width).toBeGreaterThan(300);
        expect(chart.lines).toBeGreaterThan(0);
        // Three value ticks and three time ticks, in UTC.
        expect(chart.labels.filter((l) => l.endsWith("UTC"))).toHaveLength(3);
        expect(chart.labels.length).toBe(6);
      }
      // The side-by-side comparison names both runs.
      const header = await page.$$eval("table thead th", (ths) => ths.map((th) => th.textContent));
      expect(header.slice(0, 3)).toEqual(["", "loose", "tight"]);
      const scroll = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      expect(scroll).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ARTIFACTS, `replay-${width}.png`), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      await page.close();
    }, 60_000);
  }
});
