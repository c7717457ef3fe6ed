import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { syntheticPortfolio } from "../helpers/synthetic-book.ts";

const ACCOUNTS = 100_000;
let directory: string | undefined;

afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe("backing evaluate on a large document", () => {
  it(`evaluates ${ACCOUNTS.toLocaleString("en-US")} accounts within a 1 GB heap, streaming the output`, async () => {
    directory = await mkdtemp(join(tmpdir(), "backing-large-"));
    const path = join(directory, "book.json");
    await writeFile(path, JSON.stringify(syntheticPortfolio({ accounts: ACCOUNTS, perps: 5 })));
    const { code, stdout, stderr } = await runCli(["evaluate", path], {
      nodeOptions: ["--max-old-space-size=1024"],
    });
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(stdout.match(/"id": "acct-\d+"/g)?.length).toBe(ACCOUNTS);
    expect(stdout.trimEnd().endsWith("]\n}")).toBe(true);
    // Progress goes to stderr, one line per 10% when stderr is not a terminal.
    expect(stderr).toContain(`evaluating: 100% (${ACCOUNTS}/${ACCOUNTS})`);
  }, 180_000);
});
