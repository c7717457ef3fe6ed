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
import {
  draw,
  jsonOnly,
  malformed,
  RUNS,
  refusedBy,
  refusedEach,
  shown,
  tableDump,
  VALID_FUNDING,
  VALID_PRICE,
} from "../helpers/fuzz.ts";

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

describe("fuzzed events: refused as bad input, nothing written", () => {
  const deps = () => ({ store: fresh.store, now: Date.now });
  const asMessages = (body: string) => [{ messageId: "m-1", body }];

  // EventBridge delivers JSON only: the bodies that are not JSON are left out here.
  const events: [
    string,
    z.ZodType,
    unknown,
    (detail: unknown) => Promise<unknown>,
    new (...a: never[]) => Error,
  ][] = [
    [
      "price events (EventBridge detail, POST /v1/prices)",
      PriceEventBatch,
      [VALID_PRICE],
      (d) => runTickOrFanOut(d, deps()),
      PriceEventInputError,
    ],
    [
      "funding events (EventBridge detail, POST /v1/funding)",
      FundingEventBatch,
      VALID_FUNDING,
      (d) => runFundingOrFanOut(d, deps()),
      FundingEventInputError,
    ],
  ];
  it.each(events)(
    `%s: ${RUNS} malformed`,
    async (_, schema, valid, run, inputError) => {
      const before = await tableDump(fresh);
      const details = jsonOnly(draw(malformed(valid, refusedBy(schema))));
      const failures = await refusedEach(details, async (detail) => {
        const error = await run(detail).then(
          () => null,
          (e: unknown) => e,
        );
        return error instanceof inputError ? null : `${String(error)} for ${shown(JSON.stringify(detail))}`;
      });
      expect(failures).toEqual([]);
      expect(await tableDump(fresh)).toBe(before);
    },
    300_000,
  );

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
