import { FundingEventBatch, JobTask, PriceEventBatch, RecomputeTask, SweepTask } from "@backing/contracts";
import {
  consumeJobTasks,
  consumeRecomputeTasks,
  consumeSweepTasks,
  FundingEventInputError,
  PriceEventInputError,
  runFundingOrFanOut,
  runTickOrFanOut,
} from "@backing/engine";
import { exposureRendering } from "@backing/reports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { freshStore } from "../helpers/dynamo.ts";
import { draw, malformed, RUNS, refusedBy, refusedEach, shown, tableDump } from "../helpers/fuzz.ts";

// DESIGN §9 and issue 17: 10,000 generated malformed or hostile bodies per write route and per event
// type. Each is answered 4xx with a problem document (an event: refused as bad input), the server
// keeps answering, and the table is byte for byte what it was before. BACKING_FUZZ_RUNS overrides.
let fresh: Awaited<ReturnType<typeof freshStore>>;

beforeAll(async () => {
  fresh = await freshStore();
});
afterAll(async () => {
  await fresh?.drop();
});

const PRICE = { eventId: "e", asset: "BTC", index: "20000", timestamp: "2026-01-01T00:00:00Z", source: "f" };

describe("fuzzed events: refused as bad input, nothing written", () => {
  const deps = () => ({ store: fresh.store, now: Date.now });
  const asMessages = (body: string) => [{ messageId: "m-1", body }];

  it(`price events (EventBridge detail, POST /v1/prices): ${RUNS} malformed`, async () => {
    const before = await tableDump(fresh);
    const details = draw(malformed([PRICE], refusedBy(PriceEventBatch)))
      .map((text) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return undefined; // EventBridge delivers JSON only
        }
      })
      .filter((detail) => detail !== undefined);
    const failures = await refusedEach(details, async (detail) => {
      const error = await runTickOrFanOut(detail, deps()).then(
        () => null,
        (e: unknown) => e,
      );
      return error instanceof PriceEventInputError
        ? null
        : `${String(error)} for ${shown(JSON.stringify(detail))}`;
    });
    expect(failures).toEqual([]);
    expect(await tableDump(fresh)).toBe(before);
  }, 300_000);

  it(`funding events (EventBridge detail, POST /v1/funding): ${RUNS} malformed`, async () => {
    const before = await tableDump(fresh);
    const valid = {
      eventId: "f",
      venue: "v",
      asset: "BTC",
      rate: "0.0001",
      fundingTime: "2026-01-01T00:00:00Z",
      price: "20000",
      source: "f",
    };
    const details = draw(malformed(valid, refusedBy(FundingEventBatch)))
      .map((text) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return undefined;
        }
      })
      .filter((detail) => detail !== undefined);
    const failures = await refusedEach(details, async (detail) => {
      const error = await runFundingOrFanOut(detail, deps()).then(
        () => null,
        (e: unknown) => e,
      );
      return error instanceof FundingEventInputError
        ? null
        : `${String(error)} for ${shown(JSON.stringify(detail))}`;
    });
    expect(failures).toEqual([]);
    expect(await tableDump(fresh)).toBe(before);
  }, 300_000);

  const queues: [string, z.ZodType, unknown, (body: string) => Promise<{ batchItemFailures: unknown[] }>][] =
    [
      [
        "recompute tasks (SQS)",
        RecomputeTask,
        { accountIds: ["a"], reason: "r" },
        (body) => consumeRecomputeTasks(deps(), asMessages(body), () => {}),
      ],
      [
        "sweep tasks (SQS)",
        SweepTask,
        { sweepId: "r", segment: 0, segments: 1 },
        (body) => consumeSweepTasks(deps(), asMessages(body), { onFailure: () => {} }),
      ],
      [
        "job tasks (SQS)",
        JobTask,
        { job: "exposure", runId: "r", pass: 0, segment: 0, segments: 1 },
        (body) => {
          const reports = { write: async () => "", read: async () => null };
          const jobDeps = { ...deps(), reports, rendering: exposureRendering };
          return consumeJobTasks(
            { exposure: jobDeps, stress: jobDeps, queue: { send: async () => {} } },
            asMessages(body),
            { onFailure: () => {} },
          );
        },
      ],
    ];
  it.each(queues)(
    `%s: ${RUNS} malformed messages each fail on their own`,
    async (_, schema, valid, consume) => {
      const before = await tableDump(fresh);
      const failures = await refusedEach(draw(malformed(valid, refusedBy(schema))), async (body) => {
        const { batchItemFailures } = await consume(body);
        return batchItemFailures.length === 1 ? null : `accepted ${shown(body)}`;
      });
      expect(failures).toEqual([]);
      expect(await tableDump(fresh)).toBe(before);
    },
    300_000,
  );
});
