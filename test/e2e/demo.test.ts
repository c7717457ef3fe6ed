import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ExposureReport } from "@backing/contracts";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.ts";

const TYPES = ["margin.warning", "margin.call", "margin.liquidation", "margin.cured", "margin.call.expired"];

describe("backing demo", () => {
  it("replays the FTX week over a small book and prints one JSON summary", async () => {
    const out = await mkdtemp(join(tmpdir(), "backing-demo-"));
    const { code, stdout, stderr } = await runCli(["demo", "--json", "--accounts", "300", "--out", out]);
    expect(code, stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ scenario: "ftx-2022", accounts: 300, ticks: 216, invalidAccounts: 0 });
    // Every tick moves BTC, ETH and SOL; the trigger bands spare the accounts whose bands hold
    // (all are evaluated on the first tick, when none has a band yet).
    expect(summary.accountsEvaluated).toBeGreaterThanOrEqual(300);
    // A full recompute would evaluate 300 × 216; the bands must spare at least nine in ten of them.
    expect(summary.accountsEvaluated).toBeLessThan((300 * 216) / 10);
    expect(Object.keys(summary.notifications).every((t) => TYPES.includes(t))).toBe(true);
    // A −25% BTC / −34% ETH / −60% SOL week against a long-biased book must call someone.
    expect(
      summary.notifications["margin.call"] + summary.notifications["margin.liquidation"],
    ).toBeGreaterThan(0);
    expect(stderr).toContain("replaying: 100% (216/216)");
    // The venues liquidated accounts the engine sent to liquidation (DESIGN §3.12), and the
    // insurance fund (50,000,000 to start) moved by the fees in and the bad debt out.
    const { venues } = summary;
    expect(venues.liquidations).toBeGreaterThan(0);
    expect(venues.liquidations).toBeLessThanOrEqual(summary.notifications["margin.liquidation"]);
    const fundMoved = Number(venues.fundAfter) - (50_000_000 + Number(venues.fees) - Number(venues.fundUsed));
    expect(Math.abs(fundMoved)).toBeLessThan(1e-6);
    // The shipped pack runs over the book at the last prices.
    expect(summary.stress).toHaveLength(12);
    expect(summary.stress[0]).toMatchObject({
      id: "HIST_2020_03_BLACK_THURSDAY",
      cascadeRounds: expect.any(Number),
    });
    // The venues posted a book per asset (DESIGN §3.11): cascades walk them, and say so.
    expect(summary.stress.some((s: { cascadeWalkedBook: string[] }) => s.cascadeWalkedBook.length > 0)).toBe(
      true,
    );
    // Webhooks: every notification of venue-a and venue-b (they have endpoints; venue-c has none)
    // reached the receiver, signed; venue-b's first five 503s were retried; nothing parked or lost.
    expect(summary.webhooks).toMatchObject({ retried: 5, parked: 0, undelivered: 0 });
    // Every delivered webhook carried a signature the receiver verified.
    expect(summary.webhooks.verified).toBe(summary.webhooks.delivered);
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50);
    const total = Object.values(summary.notifications as Record<string, number>).reduce((a, b) => a + b, 0);
    // `explain` reproduces every margin notification exactly.
    expect(summary.explained).toEqual({ notifications: total, diffs: 0 });
    // The operators' topic (local sink of SNS MarginNotifications) got every margin notification of
    // every venue, venue-c included, with attributes that match the body.
    const lines = (await readFile(resolve(ROOT, summary.topic.file), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const margin = lines.filter((m) => m.attributes.type.startsWith("margin."));
    expect(new Set(margin.map((m) => m.id)).size).toBe(total);
    // Each notification of venue-a and venue-b (margin calls and the exposure report's
    // report.exposure.ready) was delivered exactly once (2xx), no more.
    const subscribed = new Set(
      lines.filter((m) => m.attributes.venue !== "venue-c").map((m) => m.id as string),
    );
    expect(lines.filter((m) => m.attributes.type === "report.exposure.ready")).toHaveLength(3);
    expect(subscribed.size).toBeGreaterThan(0);
    expect(summary.webhooks.delivered).toBe(subscribed.size);
    // Where the time went: every phase is timed and they add up to no more than the whole.
    const phases = Object.values(summary.phasesMs as Record<string, number>);
    expect(Object.keys(summary.phasesMs)).toEqual([
      "start",
      "seed",
      "replay",
      "stress",
      "exposure",
      "webhooks",
      "explain",
    ]);
    expect(phases.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(summary.elapsedMs);
    expect(new Set(margin.map((m) => m.attributes.venue))).toEqual(
      new Set(["venue-a", "venue-b", "venue-c"]),
    );
    for (const message of margin) {
      const body = JSON.parse(message.body);
      expect(message.attributes).toEqual({
        venue: body.data.venue,
        type: body.type,
        status: body.data.status,
      });
    }
    // The exposure report of the book at the last prices, as a page and as JSON.
    const html = resolve(ROOT, summary.reports.exposureHtml);
    expect(html.startsWith(out)).toBe(true);
    expect(await readFile(html, "utf8")).toMatch(/^<!doctype html>/);
    const json = resolve(ROOT, summary.reports.exposureJson);
    const report = ExposureReport.parse(JSON.parse(await readFile(json, "utf8")));
    expect(report.accounts).toBe(300);
    expect(Object.keys(report.assets).sort()).toEqual(["BTC", "ETH", "SOL"]);
  }, 120_000);

  it("refuses bad options with exit 2", async () => {
    for (const args of [
      ["--accounts", "many"],
      ["--scenario", "luna-2022"],
    ]) {
      const { code, stderr } = await runCli(["demo", ...args]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/--accounts|--scenario/);
    }
  });

  it("says how to install Java when it is missing", async () => {
    const { code, stderr } = await runCli(["demo", "--accounts", "10"], {
      env: { ...process.env, PATH: "/nonexistent" },
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/java was not found.*Java 17\+/s);
  });
});
