import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.ts";

// Configuration enters in one place per runtime: functions/wiring.ts for the Lambdas,
// packages/cli/src/system.ts for the CLI and the local system. Everything else receives values.
const ALLOWED = new Set(["functions/wiring.ts", "packages/cli/src/system.ts"]);
const READS = [/\bprocess\.env\b/, /from\s+["']sst(\/resource)?["']/, /\bResource\.[A-Z]/];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("the environment boundary", () => {
  const files = [
    ...sources(join(ROOT, "functions")),
    ...readdirSync(join(ROOT, "packages")).flatMap((pkg) => sources(join(ROOT, "packages", pkg, "src"))),
  ].map((path) => relative(ROOT, path));

  it("scans the handlers and every package", () => {
    expect(files).toContain("functions/notify.ts");
    expect(files).toContain("packages/engine/src/recompute/evaluate.ts");
  });

  it("lets only the wiring modules read process.env or SST's Resource", () => {
    const offenders = files.filter(
      (file) => !ALLOWED.has(file) && READS.some((read) => read.test(readFileSync(join(ROOT, file), "utf8"))),
    );
    expect(offenders).toEqual([]);
  });

  it("would catch a read outside them", () => {
    expect(READS.some((read) => read.test("const table = process.env.BACKING_TABLE_NAME;"))).toBe(true);
    expect(READS.some((read) => read.test('import { Resource } from "sst";'))).toBe(true);
  });
});
