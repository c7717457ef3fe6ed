import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Account } from "@backing/contracts";
import { registerEndpoint } from "@backing/engine";
import { deliveryEnvironment } from "@backing/webhooks";
import type { DynamoDBStreamEvent, EventBridgeEvent, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";
import { startReceiver } from "../helpers/receiver.ts";

// Every Lambda handler invoked as AWS would: real-shaped events (test/fixtures/aws), the wiring
// module reading the environment, DynamoDB Local behind it, a loopback venue verifying signatures.
const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../fixtures/aws", name), "utf8")) as T;

const ADMIN_KEY = "bk_admin_fixture_key";
const captured: string[] = [];
const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
let fresh: Awaited<ReturnType<typeof freshStore>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const secrets: string[] = [];

// Long 1 BTC at 20,000 on 1,000 USDC: a margin call below about 19,153 (fan-out test's account).
const account = (id: string, usdc: string) =>
  Account.parse({
    id,
    venue: "venue-a",
    collateral: { USDC: usdc },
    positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" }],
  });

beforeAll(async () => {
  fresh = await freshStore();
  receiver = await startReceiver({ secrets: () => secrets });
  Object.assign(process.env, {
    BACKING_TABLE_NAME: fresh.tableName,
    BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
    BACKING_REPORT_DIR: await mkdtemp(join(tmpdir(), "backing-handlers-")),
    BACKING_WEBHOOK_ALLOW_LOOPBACK: "true",
    // One pass of the redeliver job, not its 55 s window of polls.
    BACKING_REDELIVER_WINDOW_SECONDS: "0",
    // As SST links the AdminApiKey secret (reference serverless.md §1.9): read on first access.
    SST_RESOURCE_App: JSON.stringify({ name: "backing", stage: "test" }),
    SST_RESOURCE_AdminApiKey: JSON.stringify({ value: ADMIN_KEY }),
  });
  await fresh.store.putAccounts([account("a-1", "1000"), account("a-2", "5000")]);
  const endpoint = await registerEndpoint(
    { store: fresh.store, now: Date.now, delivery: deliveryEnvironment({ allowLoopback: true }) },
    { venue: "venue-a", url: receiver.url("/venue-a"), types: ["margin.call", "margin.liquidation"] },
  );
  secrets.push(...endpoint.secrets.map((s) => s.secret));
  // Powertools writes its JSON lines and EMF blobs to stdout/stderr: keep a copy to scan.
  for (const stream of ["stdout", "stderr"] as const) {
    const original = writes[stream];
    process[stream].write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured.push(String(chunk));
      return (original as (...a: unknown[]) => boolean).call(process[stream], chunk, ...rest);
    }) as typeof process.stdout.write;
  }
});

afterAll(async () => {
  process.stdout.write = writes.stdout;
  process.stderr.write = writes.stderr;
  await receiver?.close();
  await fresh?.drop();
});

/** JSON log lines and EMF blobs written so far. */
const logged = () =>
  captured
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const metricsOf = (job: string) =>
  logged().filter((line) => line._aws !== undefined && line.job === job) as Record<string, number>[];

describe("Lambda handlers on real-shaped AWS events", () => {
  it("EventBridge price event → price-event handler: the crash calls the thin account only", async () => {
    const { handler } = await import("../../functions/price-event.ts");
    const event =
      fixture<EventBridgeEvent<"backing.price", { timestamp: string }[]>>("eventbridge-price.json");
    // The fixture's prices, rebased to now: the engine makes no call on stale prices.
    for (const price of event.detail) price.timestamp = new Date().toISOString();
    const result = await handler(event);
    expect(result).toMatchObject({ triggered: 2, queued: 0, evaluated: 2 });
    const notifications = await fresh.store.listNotifications();
    expect(notifications.map((n) => [n.accountId, n.type])).toEqual([["a-1", "margin.call"]]);
    expect(metricsOf("price-event")[0]).toMatchObject({
      Ticks: 1,
      AccountsEvaluated: 2,
      Transitions: 1,
      JobFailures: 0,
    });
  });

  it("a feed going bad shows: every event not applied is logged with its reason, every outcome counted", async () => {
    const { handler } = await import("../../functions/price-event.ts");
    const event =
      fixture<EventBridgeEvent<"backing.price", { eventId: string; timestamp: string }[]>>(
        "eventbridge-price.json",
      );
    const [btc, usdc] = event.detail as [(typeof event.detail)[0], (typeof event.detail)[0]];
    btc.eventId = "BTC@stale";
    btc.timestamp = new Date(Date.now() - 3_600_000).toISOString();
    usdc.eventId = "USDC@2099";
    usdc.timestamp = "2099-01-01T00:00:00.000Z";
    await handler(event);
    const warnings = logged().filter((l) => l.message === "price event not applied" && l.level === "WARN");
    expect(warnings.map((w) => [w.eventId, w.outcome])).toEqual([
      ["BTC@stale", "stale"],
      ["USDC@2099", "rejected"],
    ]);
    expect(metricsOf("price-event").at(-1)).toMatchObject({
      PricesAccepted: 0,
      PricesStale: 1,
      PricesRejected: 1,
      PricesOutOfOrder: 0,
      Ticks: 1,
    });
  });

  it("SQS recompute batch with one poison message → exactly that message reported failed", async () => {
    const { handler } = await import("../../functions/recompute.ts");
    const event = fixture<SQSEvent>("sqs-recompute.json");
    const response = await handler(event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]?.messageId }]);
    expect(metricsOf("recompute")[0]).toMatchObject({ AccountsEvaluated: 2, TaskFailures: 1 });
  });

  it("DynamoDB stream batch with a failing record → that record alone failed; the valid one delivered and verified", async () => {
    const { handler } = await import("../../functions/notify.ts");
    const event = fixture<DynamoDBStreamEvent>("dynamodb-stream-notify.json");
    // A fourth record the store cannot write: a notification id beyond DynamoDB's 2 KB key limit,
    // on another account (its own lane), so the first record's delivery is unaffected.
    const failing = structuredClone(event.Records[0]) as (typeof event.Records)[number];
    const image = failing.dynamodb?.NewImage as Record<string, { M?: Record<string, { S?: string }> }>;
    const inner = image.notification?.M as Record<string, { S?: string }>;
    (inner.id as { S: string }).S = `ntf_${"x".repeat(2100)}`;
    (inner.accountId as { S: string }).S = "a-9";
    (failing.dynamodb as { SequenceNumber: string }).SequenceNumber = "111100000000000000004";
    event.Records.push(failing);

    const response = await handler(event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "111100000000000000004" }]);
    const delivered = receiver.received.filter((r) => r.id === "ntf_a-1_3_margin.call");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.verified).toBe(true);
    expect(metricsOf("notify")[0]).toMatchObject({
      NotificationsDispatched: 1,
      RecordFailures: 1,
      PoisonRecords: 1,
      Deliveries: 1,
      DeliveryFailures: 0,
    });
    // The poison record (no venue) is logged, not retried.
    expect(
      logged().some(
        (l) => l.message === "poison stream record skipped" && l.sequenceNumber === "111100000000000000003",
      ),
    ).toBe(true);
  });

  it("scheduler events → sweep, redeliver, stress and exposure handlers run their jobs", async () => {
    const event = fixture<Record<string, unknown>>("scheduler.json");
    const sweep = await (await import("../../functions/sweep.ts")).handler(event);
    expect(sweep).toMatchObject({ accounts: 2, evaluated: 2, expired: 0, invalid: 0 });
    const redeliver = await (await import("../../functions/redeliver.ts")).handler(event);
    expect(redeliver).toEqual({ attempted: 0 });
    const stress = await (await import("../../functions/stress.ts")).handler(event);
    expect(stress).toMatchObject({ accounts: 2, reportId: expect.any(String) });
    const exposure = await (await import("../../functions/exposure.ts")).handler(event);
    expect(exposure).toMatchObject({ accounts: 2, invalidAccounts: 0 });
    for (const job of ["sweep", "redeliver", "stress", "exposure"]) {
      const [metrics] = metricsOf(job);
      expect(metrics, job).toMatchObject({ JobFailures: 0 });
      expect(metrics?.JobDuration, job).toBeGreaterThan(0);
      expect(
        logged().some((l) => l.message === `${job} done` && l.level === "INFO"),
        job,
      ).toBe(true);
    }
  });

  it("API Gateway v2 request → api handler: the Hono app, authenticated by the linked admin secret", async () => {
    const { handler } = await import("../../functions/api.ts");
    const event = fixture<Parameters<typeof handler>[0]>("apigw-v2-params.json");
    const context = { awsRequestId: "req-1", functionName: "api" } as Parameters<typeof handler>[1];
    const ok = (await handler(event, context)) as {
      statusCode: number;
      body: string;
      headers: Record<string, string>;
    };
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ version: expect.any(String), status: expect.any(Object) });
    const anonymous = structuredClone(event) as { headers: Record<string, string> };
    delete anonymous.headers.authorization;
    const refused = (await handler(anonymous as typeof event, context)) as typeof ok;
    expect(refused.statusCode).toBe(401);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(
      logged().some((l) => l.message === "api request" && l.status === 200 && l.path === "/v1/params"),
    ).toBe(true);
  });

  it("never logs a webhook secret or an API key", () => {
    const everything = captured.join("");
    expect(everything).not.toContain(ADMIN_KEY);
    expect(everything.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.replace(/^whsec_/, ""));
    }
    expect(everything).not.toContain("whsec_");
  });
});
