import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { folderReportStore } from "@backing/reports";
import { describe, expect, it } from "vitest";

// Two writers of the same report file (a retried task's reduce racing the first one, seen on
// worker threads under load) must leave one whole file, never the two interleaved.
async function* chunks(letter: string, count: number) {
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    yield `${letter.repeat(1024)}\n`;
  }
}

describe("the folder report store", () => {
  it("writes a file whole: concurrent writers of the same file leave one of them, not a mix", async () => {
    const directory = await mkdtemp(join(tmpdir(), "backing-reports-"));
    const store = folderReportStore(directory);
    await Promise.all([
      store.write("stress", "r-1", chunks("a", 200)),
      store.write("stress", "r-1", chunks("b", 300)),
    ]);
    const text = (await store.read("stress", "r-1")) as string;
    expect([`${"a".repeat(1024)}\n`.repeat(200), `${"b".repeat(1024)}\n`.repeat(300)]).toContain(text);
    // No partial file is left behind.
    expect(await readdir(join(directory, "stress"))).toEqual(["r-1.json"]);
    expect(await readFile(join(directory, "stress", "r-1.json"), "utf8")).toBe(text);
  });
});
