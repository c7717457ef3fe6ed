import { CapacityMeter } from "@backing/dynamo";
import { describe, expect, it } from "vitest";
import { AWS_PRICES } from "../../bench/aws-prices.ts";
import { dailyCost, lambdaGbSeconds, noUsage, storagePerDay } from "../../bench/cost-model.ts";

describe("the cost model of bench:cost", () => {
  it("scales only the book-sized part of a run to the target book, then multiplies by runs per day", () => {
    // 10 RRU + 2 WRU fixed per run; 100 RRU per run at 20,000 accounts → 5,000 RRU at 1,000,000.
    const day = dailyCost(
      {
        name: "sweep",
        basis: "",
        fixed: { ...noUsage(), readUnits: 10, writeUnits: 2 },
        perBook: { ...noUsage(), readUnits: 100 },
        runsPerDay: 1440,
      },
      20_000,
      1_000_000,
    );
    expect(day.perDay.readUnits).toBe((10 + 5_000) * 1440);
    expect(day.perDay.writeUnits).toBe(2 * 1440);
    // 7,214,400 RRU × $0.125/M + 2,880 WRU × $0.625/M = $0.9018 + $0.0018.
    expect(day.dynamodbUsd).toBeCloseTo(0.9018 + 0.0018, 6);
    expect(day.lambdaUsd).toBe(0);
  });

  it("bills Lambda for CPU at 1024 MB's share of a vCPU plus DynamoDB round trips, and per request", () => {
    // 1 CPU-s → 1.769 s at 1024 MB; 1,000 calls × 4 ms ÷ 4 in flight = 1 s: 2.769 GB-s.
    expect(lambdaGbSeconds({ ...noUsage(), cpuSeconds: 1, requests: 1_000 })).toBeCloseTo(2.769, 9);
    const day = dailyCost(
      {
        name: "ticks",
        basis: "",
        fixed: { ...noUsage(), cpuSeconds: 0.001, invocations: 1 },
        perBook: noUsage(),
        runsPerDay: 1_000_000,
      },
      1,
      1,
    );
    // 1,000 CPU-s → 1,769 GB-s × $0.0000133334 + 1,000,000 × $0.20/M.
    expect(day.lambdaUsd).toBeCloseTo(1_769 * AWS_PRICES.lambda.gbSecond + 0.2, 6);
    // A function asleep is billed as if it worked: the Redeliver run's 55 s a minute is 79,200 GB-s a day.
    const redeliver = dailyCost(
      {
        name: "redeliver",
        basis: "",
        fixed: { ...noUsage(), waitSeconds: 55 },
        perBook: noUsage(),
        runsPerDay: 1_440,
      },
      1,
      1,
    );
    expect(redeliver.lambdaUsd).toBeCloseTo(79_200 * AWS_PRICES.lambda.gbSecond, 6);
  });

  it("stores 2 KB per account for a million accounts at $0.25 per GB-month: 2 GB, $0.0167 a day", () => {
    expect(storagePerDay(2_000, 1_000_000)).toBeCloseTo(0.5 / 30, 9);
  });
});

describe("the capacity meter", () => {
  it("charges a transaction as AWS does, 2 write units per KB of each item, not DynamoDB Local's flat 2", () => {
    const meter = new CapacityMeter();
    const input = {
      TransactItems: [
        { Put: { TableName: "t", Item: { pk: "a", sk: "1", blob: "x".repeat(1500) } } }, // 2 KB → 4
        { Put: { TableName: "t", Item: { pk: "b", sk: "1" } } }, // 1 KB → 2
        { Update: { TableName: "t", Key: { pk: "c" }, ExpressionAttributeValues: { ":v": 1 } } }, // → 2
        { ConditionCheck: { TableName: "t", Key: { pk: "d" } } }, // → 2
      ],
    };
    return meter.run("job", async () => {
      meter.record("TransactWriteItemsCommand", { CapacityUnits: 2 }, input);
      meter.record("QueryCommand", { CapacityUnits: 0.5 });
      meter.record("BatchWriteItemCommand", [{ CapacityUnits: 75 }]);
      expect(meter.totals().job).toEqual({ readUnits: 0.5, writeUnits: 10 + 75, requests: 3 });
    });
  });
});
