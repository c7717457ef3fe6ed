import { readFileSync } from "node:fs";
import { join } from "node:path";
import { composeSystem, type DeliveryRecord } from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.ts";

// The four runtimes: the Lambdas, `backing serve`, the demo and the CLI's commands on a running system.
const RUNTIMES = [
  "functions/wiring.ts",
  "packages/local/src/serve.ts",
  "packages/local/src/demo.ts",
  "packages/cli/src/system.ts",
];

/** The source without the arguments of its composeSystem(…) calls. */
function outsideComposition(source: string): string {
  let rest = source;
  for (let at = rest.indexOf("composeSystem("); at >= 0; at = rest.indexOf("composeSystem(")) {
    let depth = 0;
    let end = at + "composeSystem".length;
    do {
      if (rest[end] === "(") depth++;
      if (rest[end] === ")") depth--;
      end++;
    } while (depth > 0 && end < rest.length);
    rest = rest.slice(0, at) + rest.slice(end);
  }
  return rest;
}

describe("one composition root", () => {
  it.each(RUNTIMES)("%s composes the system through composeSystem and builds no job deps by hand", (file) => {
    const source = readFileSync(join(ROOT, file), "utf8");
    expect(source).toContain("composeSystem(");
    // A clock handed to a job outside the composition is deps built by hand.
    expect(outsideComposition(source)).not.toMatch(/\bnow:\s/);
  });

  it("would catch deps built by hand", () => {
    expect(outsideComposition("const deps = { store, now: Date.now };")).toMatch(/\bnow:\s/);
    expect(outsideComposition("composeSystem({ store, now: Date.now, x: f(1) })")).not.toMatch(/\bnow:\s/);
  });

  it("gives every job the same store and clock, and names what a runtime did not configure", () => {
    const store = memoryStore();
    const now = () => 42;
    const attempts: DeliveryRecord[] = [];
    const system = composeSystem({
      store,
      now,
      delivery: {} as never,
      onAttempt: (delivery) => attempts.push(delivery),
    });
    expect(system.engine).toEqual({ store, now, volatility: {} });
    expect(system.tick).toEqual(system.engine);
    expect(system.webhooks()).toMatchObject({ store, now });
    expect(() => system.stress()).toThrow("the stress job needs a report store");
    expect(() => composeSystem({ store, now }).webhooks()).toThrow("sending webhooks needs webhook delivery");
  });
});
