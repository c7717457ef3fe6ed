import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.ts";

const script = readFileSync(join(ROOT, "docs", "walkthrough.sh"), "utf8");

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [join(ROOT, "docs", "walkthrough.sh")], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the README's serve walkthrough (docs/walkthrough.sh)", () => {
  it("is in the README exactly as the script is", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain(`\`\`\`sh\n${script}\`\`\``);
  });

  it("runs as written: the account is called, the venue gets the signed webhook, the report is served", async () => {
    const { code, stdout, stderr } = await run();
    expect(code, stderr.slice(-3000)).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .filter((line) => line.startsWith("{") || line.startsWith("["))
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { imported: 2, failed: 0, errors: [] },
      // BTC 20,000: both evaluated (no band yet), both healthy.
      {
        events: [
          { eventId: "USDC@1", asset: "USDC", outcome: "accepted" },
          { eventId: "BTC@1", asset: "BTC", outcome: "accepted" },
        ],
        triggered: 2,
        queued: 0,
        evaluated: 2,
        notifications: {},
      },
      // BTC 19,100: only a-1's band is left; equity 1,000 − 900 = 100 < IM 19,100 / 125 = 152.8.
      {
        events: [
          { eventId: "USDC@2", asset: "USDC", outcome: "accepted" },
          { eventId: "BTC@2", asset: "BTC", outcome: "accepted" },
        ],
        triggered: 1,
        queued: 0,
        evaluated: 1,
        notifications: { "margin.call": 1 },
      },
      { status: "MARGIN_CALL", equity: "100", initialMargin: "152.8", callAmount: "52.8" },
      { type: "margin.call", verified: true, account: "a-1", previousStatus: "HEALTHY", equity: "100" },
      [{ type: "margin.call", account: "a-1" }],
      // What if BTC were 15,000: equity 1,000 − 5,000 = −4,000, below MM.
      { status: "LIQUIDATION", equity: "-4000" },
      { venue: "venue-a", accounts: 2 },
    ]);
    expect(stdout).toContain("walkthrough: done");
  }, 120_000);
});
