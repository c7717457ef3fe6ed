import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { marshall } from "@aws-sdk/util-dynamodb";
import { type Account, MarginNotificationPayload, WebhookPayload } from "@backing/contracts";
import { streamEntries } from "@backing/dynamo";
import {
  type NotificationRecord,
  notifyBatch,
  registerEndpoint,
  runTick,
  type WebhookDeps,
} from "@backing/engine";
import { fileCheckpoints, StreamPoller } from "@backing/local";
import { DEFAULT_TIMEOUT_MS, httpTransport } from "@backing/webhooks";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";
import { startReceiver } from "../helpers/receiver.ts";

// 1,000 USDC against a long 1 BTC perp at 20,000: a margin call below 19,153.23 (engine.test.ts).
const account = (id: string): Account => ({
  id,
  venue: "venue-a",
  marginMode: "standard",
  collateral: { USDC: "1000" },
  positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" }],
});
const T0 = Date.now();
const drops: (() => Promise<unknown>)[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
afterAll(async () => {
  for (const drop of drops) await drop();
});

async function system() {
  const fresh = await freshStore();
  drops.push(fresh.drop);
  const secrets: string[] = [];
  const receiver = await startReceiver({ secrets: () => secrets });
  closers.push(() => receiver.close());
  const deps: WebhookDeps = {
    store: fresh.store,
    now: Date.now,
    delivery: {
      guard: { requireHttps: true, allowLoopback: true },
      resolver: async () => [],
      transport: httpTransport,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    },
  };
  const endpoint = await registerEndpoint(deps, {
    venue: "venue-a",
    url: receiver.url("/hooks"),
    types: ["margin.call", "margin.liquidation", "margin.cured", "report.exposure.ready"],
  });
  secrets.push(...endpoint.secrets.map((s) => s.secret));
  const tick = (minute: number, btc: string) => {
    const timestamp = new Date(T0 + minute * 60_000).toISOString();
    return runTick(
      [
        { eventId: `BTC@${minute}`, asset: "BTC", index: btc, timestamp, source: "test" },
        { eventId: `USDC@${minute}`, asset: "USDC", index: "1", timestamp, source: "test" },
      ],
      { store: fresh.store, now: () => T0 + minute * 60_000 },
    );
  };
  const handler = async (event: DynamoDBStreamEvent) => {
    const { failed } = await notifyBatch(deps, streamEntries(event.Records));
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
  return { ...fresh, deps, receiver, tick, handler };
}

describe("table stream → notify handler → venue webhook (DynamoDB Local stream, local poller)", () => {
  it("a margin call written by the engine reaches the venue signed, once, and a restarted poller resends nothing", async () => {
    const { store, tableName, receiver, tick, handler } = await system();
    await store.putAccounts([account("a-1"), account("a-2")]);
    await tick(0, "20000");
    await tick(1, "19100");
    const notifications = await store.listNotifications();
    expect(notifications.map((n) => n.type)).toEqual(["margin.call", "margin.call"]);

    const checkpoints = fileCheckpoints(
      join(await mkdtemp(join(tmpdir(), "backing-stream-")), "checkpoints.json"),
    );
    const poller = new StreamPoller({ endpoint: inject("dynamoEndpoint"), tableName, handler, checkpoints });
    expect(await poller.pollOnce()).toBeGreaterThan(0);
    await poller.stop();
    expect(receiver.received.map((r) => r.id).sort()).toEqual(notifications.map((n) => n.id).sort());
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    for (const r of receiver.received) MarginNotificationPayload.parse(JSON.parse(r.body));

    // A report notification whose summary is an empty map survives the local stream's decoding.
    await store.putNotifications([
      {
        id: "ntf_report_empty",
        type: "report.exposure.ready",
        venue: "venue-a",
        accountId: null,
        episodeId: null,
        createdAtMs: T0,
        payload: {
          type: "report.exposure.ready",
          timestamp: new Date(T0).toISOString(),
          data: {
            venue: "venue-a",
            reportId: "r",
            location: "out/r",
            asOf: new Date(T0).toISOString(),
            summary: {},
          },
        },
      },
    ]);
    const again = new StreamPoller({ endpoint: inject("dynamoEndpoint"), tableName, handler, checkpoints });
    await again.pollOnce();
    await again.stop();
    expect(receiver.received.at(-1)).toMatchObject({ id: "ntf_report_empty", verified: true });
    const report = WebhookPayload.parse(JSON.parse(receiver.received.at(-1)?.body ?? "{}"));
    expect(report).toMatchObject({ type: "report.exposure.ready", data: { summary: {} } });
    receiver.received.pop();

    // Restart from the checkpoint file: nothing new to send...
    const restarted = new StreamPoller({
      endpoint: inject("dynamoEndpoint"),
      tableName,
      handler,
      checkpoints,
    });
    closers.push(() => restarted.stop());
    await restarted.pollOnce();
    expect(receiver.received).toHaveLength(2);
    // ...and what the engine writes next is picked up.
    await tick(2, "20500");
    await restarted.pollOnce();
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual([
      "margin.call",
      "margin.call",
      "margin.cured",
      "margin.cured",
    ]);
  });

  it("retries a failing record from its sequence number and, past the retry limit, discards it without blocking the shard", async () => {
    const { store, tableName, handler } = await system();
    const seen: string[] = [];
    let failures = 0;
    const discarded: DynamoDBRecord[] = [];
    const flaky = async (event: DynamoDBStreamEvent) => {
      const entries = streamEntries(event.Records);
      const poison = entries.find((e) => e.kind === "notification" && e.notification.accountId === "bad");
      for (const e of entries) if (e.kind === "notification") seen.push(e.notification.accountId ?? "");
      if (poison) {
        failures++;
        return { batchItemFailures: [{ itemIdentifier: poison.sequenceNumber }] };
      }
      return handler(event);
    };
    const notification = (accountId: string, n: number): NotificationRecord => ({
      id: `ntf_stream_${n}`,
      type: "margin.call",
      venue: "venue-a",
      accountId,
      episodeId: null,
      createdAtMs: T0 + n,
      payload: {
        type: "margin.call",
        timestamp: new Date(T0).toISOString(),
        data: { account: accountId },
      } as never,
    });
    await store.putNotifications([notification("good-1", 1)]);
    await store.putNotifications([notification("bad", 2)]);
    await store.putNotifications([notification("good-2", 3)]);
    const poller = new StreamPoller({
      endpoint: inject("dynamoEndpoint"),
      tableName,
      handler: flaky,
      maxRetries: 2,
      onDiscard: (record) => discarded.push(record),
    });
    closers.push(() => poller.stop());
    const handled = await poller.pollOnce();
    expect(handled).toBeGreaterThan(0);
    expect(failures).toBe(3);
    expect(discarded).toHaveLength(1);
    expect(discarded[0]?.eventSourceARN).toContain(tableName);
    // good-1 once; bad three times (then discarded); good-2 after it, not lost.
    expect(seen.filter((s) => s === "good-1")).toHaveLength(1);
    expect(seen.at(-1)).toBe("good-2");
  });

  it("the notify Lambda handler takes a real-shaped stream event, skips a poison record and reports no failure", async () => {
    const { store, tableName, documents, receiver } = await system();
    const notification: NotificationRecord = {
      id: "ntf_handler_1",
      type: "margin.call",
      venue: "venue-a",
      accountId: "a-9",
      episodeId: "ep-9",
      createdAtMs: T0,
      payload: {
        type: "margin.call",
        timestamp: new Date(T0).toISOString(),
        data: {
          venue: "venue-a",
          account: "a-9",
          status: "MARGIN_CALL",
          previousStatus: "HEALTHY",
          equity: "1",
          initialMargin: "2",
          maintenanceMargin: "1",
          callAmount: "1",
          deadline: null,
          episodeId: "ep-9",
          paramsVersion: "2026-01-15",
          priceSnapshot: { id: "snap_x", prices: {} },
        },
      },
    };
    await store.putNotifications([notification]);
    void documents;
    const arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${tableName}/stream/2026-11-24T00:00:00.000`;
    const record = (
      sequence: string,
      image: Record<string, unknown> | null,
      eventName: "INSERT" | "MODIFY" = "INSERT",
    ): DynamoDBRecord => ({
      eventID: `e${sequence}`,
      eventName,
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      eventSourceARN: arn,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(T0 / 1000),
        Keys: { pk: { S: "NOTIFICATION#x" }, sk: { S: "NOTIFICATION" } },
        ...(image ? { NewImage: marshall(image, { removeUndefinedValues: true }) as never } : {}),
        SequenceNumber: sequence,
        SizeBytes: 512,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });
    const event: DynamoDBStreamEvent = {
      Records: [
        record("100", {
          pk: "NOTIFICATION#bad",
          sk: "NOTIFICATION",
          type: "notification",
          notification: { id: "" },
        }),
        record("200", { pk: "ACCOUNT#a-9", sk: "RISK", type: "risk" }, "MODIFY"),
        record("300", {
          pk: `NOTIFICATION#${notification.id}`,
          sk: "NOTIFICATION",
          type: "notification",
          notification,
        }),
      ],
    };
    Object.assign(process.env, {
      BACKING_TABLE_NAME: tableName,
      BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
      BACKING_WEBHOOK_ALLOW_LOOPBACK: "true",
    });
    const { handler } = await import("../../functions/notify.ts");
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(receiver.received.map((r) => r.id)).toEqual([notification.id]);
    expect(receiver.received[0]?.verified).toBe(true);
  });
});
