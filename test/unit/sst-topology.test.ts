import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.ts";

// sst.config.ts evaluated offline against recording stand-ins of the sst.aws.* globals
// (reference/serverless.md §1.12): no Pulumi, no AWS.
interface FunctionArgs {
  handler: string;
  runtime: string;
  architecture: string;
  link: { name: string }[];
  environment: Record<string, string>;
}
interface Recorded {
  kind: string;
  name: string;
  args: Record<string, unknown>;
}
const recorded: Recorded[] = [];
const component = (kind: string) =>
  class {
    name: string;
    arn: string;
    url: string;
    constructor(name: string, args: Record<string, unknown> = {}) {
      recorded.push({ kind, name, args });
      this.name = `${name}.name`;
      this.arn = `${name}.arn`;
      this.url = `${name}.url`;
    }
    /** ApiGatewayV2: (route, function, args). */
    route(route: string, fn: Record<string, unknown>, args?: Record<string, unknown>) {
      recorded.push({ kind: `${kind}Route`, name: route, args: { function: fn, ...(args ?? {}) } });
    }
    /** Dynamo and Bus: (name, function, args); Queue: (function, args). */
    subscribe(...call: unknown[]) {
      const [name, fn, args] =
        typeof call[0] === "string"
          ? (call as [string, Record<string, unknown>, Record<string, unknown> | undefined])
          : [this.name, call[0] as Record<string, unknown>, call[1] as Record<string, unknown> | undefined];
      recorded.push({ kind: `${kind}Subscriber`, name, args: { function: fn, ...(args ?? {}) } });
    }
  };

const globals = globalThis as Record<string, unknown>;
beforeAll(() => {
  globals.$config = (config: unknown) => config;
  globals.sst = {
    Secret: component("Secret"),
    aws: {
      Dynamo: component("Dynamo"),
      Bucket: component("Bucket"),
      Queue: component("Queue"),
      CronV2: component("CronV2"),
      Bus: component("Bus"),
      SnsTopic: component("SnsTopic"),
      ApiGatewayV2: component("ApiGatewayV2"),
    },
  };
});
afterAll(() => {
  delete globals.$config;
  delete globals.sst;
});

async function topology() {
  // A computed path: tsc must not type-check sst.config.ts without SST's generated types.
  const config = (await import(join(ROOT, "sst.config.ts"))).default as {
    app(input: { stage: string }): Record<string, unknown>;
    run(): Promise<unknown>;
  };
  recorded.length = 0;
  await config.run();
  return { config, recorded: [...recorded] };
}

describe("sst.config.ts topology", () => {
  it("names the app and keeps production resources on removal", async () => {
    const { config } = await topology();
    expect(config.app({ stage: "production" })).toMatchObject({
      name: "backing",
      home: "aws",
      removal: "retain",
    });
    expect(config.app({ stage: "prod" })).toMatchObject({ removal: "retain" });
    expect(config.app({ stage: "dev" })).toMatchObject({ removal: "remove" });
  });

  it("declares the one table with its stream", async () => {
    const { recorded: resources } = await topology();
    const table = resources.find((r) => r.kind === "Dynamo");
    expect(table?.args).toMatchObject({
      primaryIndex: { hashKey: "pk", rangeKey: "sk" },
      stream: "new-and-old-images",
    });
  });

  it("subscribes the notify handler to the stream with safe retry settings, partial failures and a DLQ", async () => {
    const { recorded: resources } = await topology();
    const subscribers = resources.filter((r) => r.kind === "DynamoSubscriber");
    expect(subscribers.map((s) => s.name)).toEqual(["Notify"]);
    const {
      function: fn,
      filters,
      transform,
    } = (subscribers[0] as Recorded).args as {
      function: { handler: string; link: unknown[] };
      filters: unknown[];
      transform: { eventSourceMapping: Record<string, unknown> };
    };
    const [file, exported] = fn.handler.split(".") as [string, string];
    const module = (await import(join(ROOT, `${file}.ts`))) as Record<string, unknown>;
    expect(typeof module[exported]).toBe("function");
    expect(filters).toEqual([
      { eventName: ["INSERT"], dynamodb: { NewImage: { type: { S: ["notification"] } } } },
    ]);
    const mapping = transform.eventSourceMapping;
    expect(mapping).toMatchObject({
      startingPosition: "TRIM_HORIZON",
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ["ReportBatchItemFailures"],
      // Four batches of a shard at once: per-account order holds regardless (webhook-order.test.ts).
      parallelizationFactor: 4,
      destinationConfig: { onFailure: { destinationArn: expect.stringMatching(/\.arn$/) } },
    });
    expect(mapping.maximumRetryAttempts).toBeGreaterThanOrEqual(0);
    expect(mapping.maximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(mapping.maximumRecordAgeInSeconds).toBeGreaterThan(0);
    expect(fn.link).toHaveLength(3);
  });

  it("routes price events from the bus to a handler that fans out to a recompute queue with partial failures and a DLQ", async () => {
    const { recorded: resources } = await topology();
    const subscribers = resources.filter((r) => r.kind === "BusSubscriber");
    const byDetail = Object.fromEntries(
      subscribers.map((r) => {
        const args = r.args as {
          function: { handler: string; link: unknown[] };
          pattern?: { detailType?: string[] };
        };
        return [args.pattern?.detailType?.join(",") ?? "", args.function];
      }),
    );
    // Prices and funding prints each have their own rule and handler; both recompute through the queue.
    expect(Object.keys(byDetail).sort()).toEqual(["backing.funding", "backing.price"]);
    expect(byDetail["backing.price"]?.handler).toBe("functions/price-event.handler");
    expect(byDetail["backing.funding"]?.handler).toBe("functions/funding-event.handler");
    for (const fn of Object.values(byDetail)) expect(fn.link).toHaveLength(2);
    const queue = resources.find((r) => r.kind === "Queue" && r.name === "Recompute");
    const consumer = resources.find((r) => r.kind === "QueueSubscriber" && r.name === "Recompute.name");
    const { function: fn, batch } = (consumer as Recorded).args as {
      function: { handler: string; timeout: string };
      batch: { partialResponses: boolean };
    };
    expect(batch.partialResponses).toBe(true);
    const { transform } = (consumer as Recorded).args as {
      transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: number } } };
    };
    expect(transform.eventSourceMapping.scalingConfig.maximumConcurrency).toBeGreaterThanOrEqual(2);
    expect(transform.eventSourceMapping.scalingConfig.maximumConcurrency).toBeLessThanOrEqual(1000);
    const secondsOf = (d: string) => Number(d.split(" ")[0]) * (d.includes("minute") ? 60 : 1);
    const { visibilityTimeout, dlq } = (queue as Recorded).args as {
      visibilityTimeout: string;
      dlq: { queue: string };
    };
    expect(secondsOf(visibilityTimeout)).toBeGreaterThanOrEqual(6 * secondsOf(fn.timeout));
    expect(dlq.queue).toMatch(/\.arn$/);
    for (const handler of [...Object.values(byDetail).map((f) => f.handler), fn.handler]) {
      const [file, exported] = handler.split(".") as [string, string];
      expect(typeof ((await import(join(ROOT, `${file}.ts`))) as Record<string, unknown>)[exported]).toBe(
        "function",
      );
    }
  });

  it("shards the sweep: the Sweep cron queues segment tasks for a worker with partial failures and a DLQ", async () => {
    const { recorded: resources } = await topology();
    const cron = resources.find((r) => r.kind === "CronV2" && r.name === "Sweep");
    const cronFn = (cron as Recorded).args.function as FunctionArgs;
    expect(cronFn.handler).toBe("functions/sweep.handler");
    expect(cronFn.environment).toMatchObject({ BACKING_SWEEP_QUEUE_URL: "SweepTasks.url" });
    expect(cronFn.link.map((l) => l.name)).toContain("SweepTasks.name");
    const queue = resources.find((r) => r.kind === "Queue" && r.name === "SweepTasks");
    expect(queue?.args).toMatchObject({ dlq: { queue: "SweepFailures.arn" } });
    const worker = resources.find((r) => r.kind === "QueueSubscriber" && r.name === "SweepTasks.name");
    const { function: fn, batch } = (worker as Recorded).args as {
      function: FunctionArgs;
      batch: Record<string, unknown>;
    };
    expect(fn.handler).toBe("functions/sweep-worker.handler");
    expect(batch).toMatchObject({ partialResponses: true });
    const module = (await import(join(ROOT, "functions/sweep-worker.ts"))) as Record<string, unknown>;
    expect(typeof module.handler).toBe("function");
  });

  it("shards the exposure and stress jobs: their crons queue segment tasks for a job worker that may queue the next pass", async () => {
    const { recorded: resources } = await topology();
    for (const name of ["Exposure", "Stress"]) {
      const cron = resources.find((r) => r.kind === "CronV2" && r.name === name);
      const cronFn = (cron as Recorded).args.function as FunctionArgs;
      expect(cronFn.environment).toMatchObject({
        BACKING_JOB_QUEUE_URL: "JobTasks.url",
        BACKING_REPORT_BUCKET: "Reports.name",
      });
    }
    const queue = resources.find((r) => r.kind === "Queue" && r.name === "JobTasks");
    expect(queue?.args).toMatchObject({ dlq: { queue: "JobFailures.arn" } });
    const worker = resources.find((r) => r.kind === "QueueSubscriber" && r.name === "JobTasks.name");
    const { function: fn, batch } = (worker as Recorded).args as {
      function: FunctionArgs;
      batch: Record<string, unknown>;
    };
    expect(fn.handler).toBe("functions/job-worker.handler");
    expect(batch).toMatchObject({ size: 1, partialResponses: true });
    // The worker that completes a pass queues the next one, and writes partials and the report.
    expect(fn.environment).toMatchObject({
      BACKING_JOB_QUEUE_URL: "JobTasks.url",
      BACKING_REPORT_BUCKET: "Reports.name",
      BACKING_TABLE_NAME: "Risk.name",
    });
    // SQS needs the visibility timeout above the worker's timeout, or a running task is handed out twice.
    const minutes = (d: string) => Number(d.split(" ")[0]);
    expect(minutes((queue as Recorded).args.visibilityTimeout as string)).toBeGreaterThan(
      minutes((fn as unknown as { timeout: string }).timeout),
    );
  });

  it("runs every CronV2 on a valid schedule, with retries and a DLQ, on a handler that exists and is linked", async () => {
    const { recorded: resources } = await topology();
    const crons = resources.filter((r) => r.kind === "CronV2");
    expect(crons.map((c) => c.name)).toEqual(
      expect.arrayContaining(["Stress", "Exposure", "Redeliver", "Sweep"]),
    );
    for (const cron of crons) {
      const {
        schedule,
        retries,
        dlq,
        function: fn,
      } = cron.args as {
        schedule: string;
        retries: number;
        dlq: string;
        function: { handler: string; link: unknown[] };
      };
      expect(schedule).toMatch(
        /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/,
      );
      expect(retries).toBeGreaterThan(0);
      expect(dlq).toMatch(/\.arn$/);
      const [file, exported] = fn.handler.split(".") as [string, string];
      expect(existsSync(join(ROOT, `${file}.ts`))).toBe(true);
      const module = (await import(join(ROOT, `${file}.ts`))) as Record<string, unknown>;
      expect(typeof module[exported]).toBe("function");
      expect(fn.link.length).toBeGreaterThan(0);
    }
  });

  it("runs every function on nodejs22.x arm64, linked to exactly the resources its environment names", async () => {
    const { recorded: resources } = await topology();
    const functions = resources.flatMap((r) => {
      const fn = (r.args as { function?: unknown }).function;
      return fn && typeof fn === "object" ? [{ owner: r.name, fn: fn as FunctionArgs }] : [];
    });
    expect(functions.length).toBeGreaterThanOrEqual(8);
    for (const { fn } of functions) {
      const [file, exported] = fn.handler.split(".") as [string, string];
      expect(typeof ((await import(join(ROOT, `${file}.ts`))) as Record<string, unknown>)[exported]).toBe(
        "function",
      );
    }
    const wiringSource = readFileSync(join(ROOT, "functions/wiring.ts"), "utf8");
    const dlqs = new Set(["NotifyFailures"]);
    // Secrets are read through SST's Resource in the wiring module, not through the environment.
    const secrets = new Set(resources.filter((r) => r.kind === "Secret").map((r) => r.name));
    for (const secret of secrets) expect(wiringSource).toContain(`Resource.${secret}.value`);
    for (const { owner, fn } of functions) {
      expect(fn, owner).toMatchObject({ runtime: "nodejs22.x", architecture: "arm64" });
      const linked = new Set(fn.link.map((component) => component.name.replace(/\.name$/, "")));
      const named = new Set(Object.values(fn.environment).map((value) => value.split(".")[0] as string));
      // Linked beyond its environment only for an event-source DLQ (the mapping's onFailure target).
      expect(
        [...named].filter((n) => !linked.has(n)),
        owner,
      ).toEqual([]);
      expect(
        [...linked].filter((n) => !named.has(n) && !dlqs.has(n) && !secrets.has(n)),
        owner,
      ).toEqual([]);
      // Every variable set is one the wiring module reads.
      for (const variable of Object.keys(fn.environment)) expect(wiringSource, variable).toContain(variable);
    }
  });

  it("publishes every notification to the MarginNotifications SNS topic from the notify function", async () => {
    const { recorded: resources } = await topology();
    expect(resources.filter((r) => r.kind === "SnsTopic").map((r) => r.name)).toEqual([
      "MarginNotifications",
    ]);
    const notify = resources.find((r) => r.kind === "DynamoSubscriber") as Recorded;
    expect((notify.args.function as FunctionArgs).environment.BACKING_NOTIFICATION_TOPIC_ARN).toBe(
      "MarginNotifications.arn",
    );
  });

  it("serves the HTTP API from one function behind an API Gateway HTTP API, with the admin key as a secret", async () => {
    const { recorded: resources } = await topology();
    const routes = resources.filter((r) => r.kind === "ApiGatewayV2Route");
    expect(routes.map((r) => r.name)).toEqual(["$default"]);
    const fn = (routes[0] as Recorded).args.function as FunctionArgs;
    expect(fn.handler).toBe("functions/api.handler");
    expect(fn.link.map((l) => l.name)).toContain("AdminApiKey.name");
    // API Gateway cuts an integration at 30 s.
    expect(Number((fn as unknown as { timeout: string }).timeout.split(" ")[0])).toBeLessThan(30);
  });

  it("runs `backing serve`'s in-process jobs on the same schedules as the CronV2 jobs", async () => {
    const { SCHEDULES } = await import("@backing/local");
    const { recorded: resources } = await topology();
    const every = (schedule: string) => {
      const [, n, unit] = /^rate\((\d+) (minute|hour)s?\)$/.exec(schedule) as RegExpExecArray;
      return Number(n) * (unit === "hour" ? 3_600_000 : 60_000);
    };
    const crons = Object.fromEntries(
      resources
        .filter((r) => r.kind === "CronV2")
        .map((r) => [r.name.toLowerCase(), every(r.args.schedule as string)]),
    );
    expect(crons).toEqual(SCHEDULES);
  });
});
