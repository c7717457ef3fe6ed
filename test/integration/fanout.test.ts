import { Account } from "@backing/contracts";
import { runRecomputeTask, runTickOrFanOut } from "@backing/engine";
import { inProcessQueue } from "@backing/local";
import type { EventBridgeEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";

const drops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

// Long 1 BTC at 20,000 on `usdc` USDC: a margin call below about 19,153 with 1,000 USDC.
const account = (id: string, usdc: string) =>
  Account.parse({
    id,
    venue: "v",
    collateral: { USDC: usdc },
    positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" }],
  });
const NOW = Date.now();
const prices = (btc: string, id: string) => [
  { eventId: `BTC@${id}`, asset: "BTC", index: btc, timestamp: new Date(NOW).toISOString(), source: "t" },
  { eventId: `USDC@${id}`, asset: "USDC", index: "1", timestamp: new Date(NOW).toISOString(), source: "t" },
];
const sqsRecord = (messageId: string, body: string): SQSRecord => ({
  messageId,
  receiptHandle: `r-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: "1",
    SentTimestamp: String(NOW),
    SenderId: "AIDAEXAMPLE",
    ApproximateFirstReceiveTimestamp: String(NOW),
  },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:Recompute",
  awsRegion: "us-east-1",
});

describe("fan-out of large ticks", () => {
  it("splits the triggered accounts into shard tasks on the queue; the recompute handler's code path does them all", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    await store.putAccounts(
      ["1000", "1000", "1000", "5000", "1000"].map((usdc, i) => account(`a-${i}`, usdc)),
    );
    const deps = { store, now: () => NOW };
    const seen: string[][] = [];
    const queue = inProcessQueue(async (event: SQSEvent) => {
      for (const record of event.Records) {
        const task = JSON.parse(record.body);
        seen.push(task.accountIds);
        await runRecomputeTask(deps, task);
      }
      return { batchItemFailures: [] };
    });
    const result = await runTickOrFanOut(prices("19100", "1"), { ...deps, queue }, { batch: 2 });
    expect(result).toMatchObject({ triggered: 5, queued: 3, recompute: null });
    expect(seen.flat().sort()).toEqual(["a-0", "a-1", "a-2", "a-3", "a-4"]);
    const states = await store.getRiskStates(["a-0", "a-3"]);
    expect(states.get("a-0")?.status).toBe("MARGIN_CALL");
    expect(states.get("a-3")).toBeUndefined();
    // A small tick stays inline.
    const small = await runTickOrFanOut(prices("19150", "2"), { ...deps, queue }, { batch: 100 });
    expect(small.queued).toBe(0);
  });

  it("the recompute Lambda handler reports exactly the poison messages; the price-event handler takes an EventBridge event", async () => {
    const { store, tableName, drop } = await freshStore();
    drops.push(drop);
    await store.putAccounts([account("b-1", "1000"), account("b-2", "1000")]);
    Object.assign(process.env, {
      BACKING_TABLE_NAME: tableName,
      BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
    });
    delete process.env.BACKING_RECOMPUTE_QUEUE_URL;
    const priceEvent = await import("../../functions/price-event.ts");
    const event: EventBridgeEvent<"backing.price", unknown> = {
      version: "0",
      id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
      "detail-type": "backing.price",
      source: "venue.prices",
      account: "123456789012",
      time: new Date(NOW).toISOString(),
      region: "us-east-1",
      resources: [],
      detail: prices("19100", "e"),
    };
    expect(await priceEvent.handler(event)).toMatchObject({
      triggered: 2,
      queued: 0,
      evaluated: 2,
      written: 2,
    });

    const recompute = await import("../../functions/recompute.ts");
    const response = await recompute.handler({
      Records: [
        sqsRecord("m-1", JSON.stringify({ accountIds: ["b-1"], reason: "test" })),
        sqsRecord("m-2", "{not json"),
        sqsRecord("m-3", JSON.stringify({ accountIds: [], reason: "empty" })),
        sqsRecord("m-4", JSON.stringify({ accountIds: ["b-2"], reason: "test" })),
      ],
    });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "m-2" }, { itemIdentifier: "m-3" }] });
  });

  it("the in-process queue redelivers failed records and parks them after the last receive", async () => {
    let calls = 0;
    const queue = inProcessQueue(
      async (event) => {
        calls++;
        return {
          batchItemFailures: event.Records.filter((r) => r.body.includes("bad")).map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
      { maxReceives: 3 },
    );
    await queue.send([
      { accountIds: ["ok"], reason: "x" },
      { accountIds: ["bad"], reason: "x" },
    ]);
    expect(calls).toBe(3);
    expect(queue.deadLetters.map((r) => JSON.parse(r.body).accountIds)).toEqual([["bad"]]);
    expect(queue.deadLetters[0]?.attributes.ApproximateReceiveCount).toBe("3");
  });
});
