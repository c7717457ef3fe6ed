import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { runTick } from "@backing/engine";
import { afterAll, describe, expect, inject, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { freshStore } from "../helpers/dynamo.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe("backing explain <notification-id>", () => {
  it("reproduces a stored margin call (exit 0), shows a diff when a figure was altered (exit 1), refuses unknown ids (exit 2)", async () => {
    const { store, documents, tableName, drop } = await freshStore();
    cleanups.push(drop);
    // 1,000 USDC against long 1 BTC at 20,000; BTC 19,100 → equity 100 < IM 152.8: a margin call.
    await store.putAccounts([
      {
        id: "a-1",
        venue: "venue-a",
        marginMode: "standard",
        collateral: { USDC: "1000" },
        positions: [
          { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" },
        ],
      },
    ]);
    const now = Date.now();
    const timestamp = new Date(now).toISOString();
    await runTick(
      [
        { eventId: "BTC@1", asset: "BTC", index: "19100", timestamp, source: "t" },
        { eventId: "USDC@1", asset: "USDC", index: "1", timestamp, source: "t" },
      ],
      { store, now: () => now },
    );
    const [call] = await store.listNotifications();
    const args = ["--endpoint", inject("dynamoEndpoint"), "--table", tableName];

    const text = await runCli(["explain", call?.id as string, ...args]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("margin.call");
    expect(text.stdout).toMatch(/equity\s+100\b/);
    expect(text.stdout).toContain("rule: worsening");
    expect(text.stdout).toContain("reproduced exactly: 0 diffs");

    const json = await runCli(["explain", call?.id as string, "--json", ...args]);
    expect(json.code).toBe(0);
    const explanation = JSON.parse(json.stdout);
    expect(explanation).toMatchObject({
      diffs: [],
      decision: { status: "MARGIN_CALL", previousStatus: "HEALTHY" },
    });
    expect(explanation.trace.explain).toBeDefined();

    // A disputed figure: the stored call amount altered in the table (the notification document
    // is stored as a JSON string).
    const key = { pk: `NOTIFICATION#${call?.id}`, sk: "NOTIFICATION" };
    const { Item: item } = await documents.send(new GetCommand({ TableName: tableName, Key: key }));
    const document = JSON.parse(item?.notification as string);
    document.payload.data.callAmount = "99";
    await documents.send(
      new PutCommand({ TableName: tableName, Item: { ...item, notification: JSON.stringify(document) } }),
    );
    const altered = await runCli(["explain", call?.id as string, ...args]);
    expect(altered.code).toBe(1);
    expect(altered.stderr).toMatch(/callAmount: stored 99, re-run 52\.8/);

    const unknown = await runCli(["explain", "ntf_nope", ...args]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no notification ntf_nope");
  });
});
