import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openApiDocument } from "@backing/api";
import { ApiKeyCreate, EndpointCreate, PriceEventBatch, StoredWhatIf } from "@backing/contracts";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.ts";

// Every command in the README's shell blocks is checked against what exists: each `backing`
// command runs with --help and must know every flag the README gives it; each npm script exists;
// each curl example names a route of the OpenAPI document and sends a body its schema accepts;
// each `sst` command names what sst.config.ts declares. (The commands themselves run in the CLI,
// API and serve tests; `sst deploy` needs AWS and is type-checked by `npm run typecheck:sst`.)
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const shellLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap(([, block]) => (block as string).replace(/\\\n\s*/g, " ").split("\n"))
  .map((line) => line.replace(/\s+#.*$/, "").trim())
  .filter((line) => line !== "");

const backingCalls = shellLines
  .filter((line) => line.includes("npx backing "))
  .map((line) => (line.split("npx backing ")[1] as string).split("|")[0]?.split(">")[0]?.trim() as string);

describe("the README's commands", () => {
  it("has shell examples for every part", () => {
    expect(backingCalls.length).toBeGreaterThanOrEqual(20);
    expect(shellLines.filter((l) => l.includes("curl ")).length).toBeGreaterThanOrEqual(7);
  });

  it("uses only backing commands and flags that exist", async () => {
    const byCommand = new Map<string, Set<string>>();
    for (const call of backingCalls) {
      const [command, ...rest] = call.split(/\s+/);
      const flags = byCommand.get(command as string) ?? new Set<string>();
      for (const token of rest) if (token.startsWith("--")) flags.add(token.split("=")[0] as string);
      byCommand.set(command as string, flags);
    }
    for (const [command, flags] of byCommand) {
      const help = await runCli([command, "--help"]);
      expect(help.code, `backing ${command} --help`).toBe(0);
      for (const flag of flags) expect(help.stdout, `backing ${command} ${flag}`).toContain(flag);
    }
  }, 120_000);

  it("uses only npm scripts that exist", () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<
      string,
      string
    >;
    const used = [...readme.matchAll(/npm run ([\w:-]+)/g)].map(([, name]) => name as string);
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) expect(scripts, name).toHaveProperty([name]);
    for (const builtin of ["start", "test"]) expect(scripts).toHaveProperty([builtin]);
  });

  it("sends curl requests to routes that exist, with bodies their schemas accept", () => {
    const paths = Object.entries(openApiDocument().paths).map(([template, operations]) => ({
      pattern: new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`),
      methods: Object.keys(operations),
    }));
    const bodies: Record<string, { parse(value: unknown): unknown }> = {
      "/v1/keys": ApiKeyCreate,
      "/v1/endpoints": EndpointCreate,
      "/v1/prices": PriceEventBatch,
      "/v1/evaluate": StoredWhatIf,
    };
    for (const line of shellLines.filter((l) => l.includes("curl "))) {
      const method = (/-X (\w+)/.exec(line)?.[1] ?? "GET").toLowerCase();
      const path = (/\$API(\/v1\/[^\s"?]*)/.exec(line)?.[1] ?? "") as string;
      const route = paths.find((p) => p.pattern.test(path) && p.methods.includes(method));
      expect(route, `${method} ${path}: ${line}`).toBeDefined();
      const body = /-d '([^']*)'/.exec(line)?.[1];
      if (body !== undefined) expect(() => bodies[path]?.parse(JSON.parse(body)), line).not.toThrow();
    }
  });

  it("names the secret and the stage that sst.config.ts declares", () => {
    const config = readFileSync(join(ROOT, "sst.config.ts"), "utf8");
    const sst = shellLines.filter((l) => l.startsWith("npx sst "));
    expect(sst.length).toBe(2);
    for (const line of sst.filter((l) => l.includes("secret set"))) {
      const name = /secret set (\w+)/.exec(line)?.[1] as string;
      expect(config).toContain(`new sst.Secret("${name}")`);
    }
    expect(sst.every((l) => l.includes("--stage prod"))).toBe(true);
    expect(config).toContain('["prod", "production"]');
  });
});
