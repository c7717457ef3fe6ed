import {
  dispatchNotification,
  type NotificationRecord,
  registerEndpoint,
  type WebhookDeps,
} from "@backing/engine";
import { httpTransport } from "@backing/webhooks";
import { afterAll, describe, expect, inject, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { freshStore } from "../helpers/dynamo.ts";
import { startReceiver } from "../helpers/receiver.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe("backing notifications", () => {
  it("lists the outbox with delivery status, filters parked ones and redelivers them", async () => {
    const { store, tableName, drop } = await freshStore();
    cleanups.push(drop);
    let healthy = false;
    const secrets: string[] = [];
    const receiver = await startReceiver({ secrets: () => secrets, behaviour: () => (healthy ? 200 : 500) });
    cleanups.push(() => receiver.close());
    const deps: WebhookDeps = {
      store,
      now: Date.now,
      delivery: {
        guard: { requireHttps: true, allowLoopback: true },
        resolver: async () => [],
        transport: httpTransport,
        timeoutMs: 2_000,
      },
    };
    const endpoint = await registerEndpoint(deps, {
      venue: "venue-a",
      url: receiver.url("/h"),
      types: ["report.stress.ready"],
    });
    secrets.push(...endpoint.secrets.map((s) => s.secret));
    const notification: NotificationRecord = {
      id: "ntf_cli_1",
      type: "report.stress.ready",
      venue: "venue-a",
      accountId: null,
      episodeId: null,
      createdAtMs: Date.now(),
      payload: {
        type: "report.stress.ready",
        timestamp: new Date().toISOString(),
        data: {
          venue: "venue-a",
          reportId: "r1",
          location: "out/r1.json",
          asOf: new Date().toISOString(),
          summary: {},
        },
      },
    };
    await store.putNotifications([notification]);
    // Eight failures parks it: run the schedule by hand with a clock that jumps past each delay.
    let clock = Date.now();
    const jumping = { ...deps, now: () => clock };
    await dispatchNotification(jumping, notification);
    const { redeliverDue } = await import("@backing/engine");
    for (let i = 0; i < 8; i++) {
      clock += 11 * 3_600_000;
      await redeliverDue(jumping);
    }
    const env = {
      ...process.env,
      BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
      BACKING_TABLE_NAME: tableName,
    };

    const failed = await runCli(["notifications", "list", "--status", "failed", "--json"], { env });
    expect(failed.code, failed.stderr).toBe(0);
    expect(JSON.parse(failed.stdout)).toMatchObject([
      { id: "ntf_cli_1", type: "report.stress.ready", venue: "venue-a", status: "failed", attempts: 8 },
    ]);
    const table = await runCli(["notifications", "list"], { env });
    expect(table.stdout).toMatch(/ntf_cli_1\s+report\.stress\.ready\s+venue-a\s+-\s+\S+\s+failed\s+8/);

    healthy = true;
    const redeliver = await runCli(["notifications", "redeliver", "--all-failed"], {
      env: { ...env, BACKING_WEBHOOK_ALLOW_LOOPBACK: "true" },
    });
    expect(redeliver.code, redeliver.stderr).toBe(0);
    expect(redeliver.stdout).toBe("1 parked delivery sent again\n");
    expect(receiver.received.map((r) => r.id)).toEqual(Array(9).fill("ntf_cli_1"));
    expect(receiver.received.at(-1)?.verified).toBe(true);
    const after = await runCli(["notifications", "list", "--status", "delivered", "--json"], { env });
    expect(JSON.parse(after.stdout)).toHaveLength(1);

    const unknown = await runCli(["notifications", "redeliver", "ntf_nope"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no notification ntf_nope");
    const bad = await runCli(["notifications", "list", "--status", "lost"], { env });
    expect(bad.code).toBe(2);
  });

  it("registers, lists, rotates and disables endpoints; refuses internal URLs", async () => {
    const { tableName, drop } = await freshStore();
    cleanups.push(drop);
    const env = {
      ...process.env,
      BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
      BACKING_TABLE_NAME: tableName,
    };
    const refused = await runCli(
      ["endpoints", "add", "--venue", "v", "--url", "https://169.254.169.254/x", "--types", "margin.call"],
      {
        env,
      },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("link-local");
    const added = await runCli(
      [
        "endpoints",
        "add",
        "--venue",
        "v",
        "--url",
        "http://127.0.0.1:9/hook",
        "--types",
        "margin.call,margin.cured",
        "--json",
      ],
      { env: { ...env, BACKING_WEBHOOK_ALLOW_LOOPBACK: "true" } },
    );
    expect(added.code, added.stderr).toBe(0);
    const endpoint = JSON.parse(added.stdout);
    expect(endpoint).toMatchObject({ venue: "v", types: ["margin.call", "margin.cured"], enabled: true });
    expect(endpoint.secrets[0].secret).toMatch(/^whsec_/);
    const rotated = await runCli(
      ["endpoints", "rotate", "v", endpoint.id, "--overlap-hours", "2", "--json"],
      { env },
    );
    expect(JSON.parse(rotated.stdout).secrets).toHaveLength(2);
    const disabled = await runCli(["endpoints", "disable", "v", endpoint.id], { env });
    expect(disabled.stdout).toBe(`${endpoint.id} disabled\n`);
    const list = await runCli(["endpoints", "list", "--venue", "v", "--json"], { env });
    const [listed] = JSON.parse(list.stdout);
    expect(listed).toMatchObject({
      id: endpoint.id,
      enabled: false,
      disabledReason: "disabled by an operator",
    });
    // Secrets are never printed by list.
    expect(list.stdout).not.toContain(endpoint.secrets[0].secret);
  });
});
