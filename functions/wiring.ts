import { type ApiDeps, hashKey } from "@backing/api";
import { connect, dynamoStore } from "@backing/dynamo";
import {
  type Adapters,
  composeSystem,
  type EngineDeps,
  type ExposureJobDeps,
  FULL_SWEEP_EVERY_MS,
  type JobTaskQueue,
  REDELIVER_WINDOW_MS,
  SHARDED_JOB_SEGMENTS,
  SHARDED_SWEEP_SEGMENTS,
  type ShardedSweepDeps,
  type StressJobDeps,
  type System,
  type TaskQueue,
  type WebhookDeps,
} from "@backing/engine";
import { snsNotificationTopic, sqsJobQueue, sqsSweepQueue, sqsTaskQueue } from "@backing/queue";
import { exposureRendering, folderReportStore, s3ReportStore } from "@backing/reports";
import { deliveryEnvironment } from "@backing/webhooks";
import { Resource } from "sst/resource";
import { z } from "zod";
import { countAttempt, logger, publishPriceOutcomes } from "./observability.ts";

/**
 * The one place that reads the environment (set by sst.config.ts in AWS; by hand or by the tests
 * locally), parsed once with zod. Everything below receives plain values.
 */
const TableEnvironment = z.object({
  BACKING_TABLE_NAME: z.string().min(3),
  BACKING_DYNAMODB_ENDPOINT: z.url().optional(),
});

const EngineEnvironment = TableEnvironment.extend({
  /** JSON object of implied vols per underlying, for options without a markPrice. */
  BACKING_VOLATILITY: z.string().optional(),
});

const JobEnvironment = EngineEnvironment.extend({
  BACKING_REPORT_BUCKET: z.string().min(3).optional(),
  BACKING_REPORT_DIR: z.string().min(1).optional(),
}).refine((env) => env.BACKING_REPORT_BUCKET || env.BACKING_REPORT_DIR, {
  message: "set BACKING_REPORT_BUCKET (AWS) or BACKING_REPORT_DIR (local)",
});

const WebhookEnvironment = TableEnvironment.extend({
  /** The local runtime only: endpoints on loopback (http allowed there). Never set in AWS. */
  BACKING_WEBHOOK_ALLOW_LOOPBACK: z.enum(["true", "false"]).default("false"),
  /** The operators' SNS topic every notification is also published to (absent: not published). */
  BACKING_NOTIFICATION_TOPIC_ARN: z.string().startsWith("arn:").optional(),
});

function store(config: z.infer<typeof TableEnvironment>) {
  const { documents } = connect(
    config.BACKING_DYNAMODB_ENDPOINT ? { endpoint: config.BACKING_DYNAMODB_ENDPOINT } : {},
  );
  return dynamoStore(documents, config.BACKING_TABLE_NAME);
}

const volatilityOf = (config: z.infer<typeof EngineEnvironment>) =>
  z.record(z.string(), z.string()).parse(JSON.parse(config.BACKING_VOLATILITY ?? "{}"));

/** This function's adapters over its environment, composed by the one composition root. */
const systemOf = (
  config: z.infer<typeof TableEnvironment> & { BACKING_VOLATILITY?: string },
  adapters: Partial<Adapters> = {},
) =>
  composeSystem({
    store: store(config),
    now: Date.now,
    volatility: volatilityOf(config),
    ...adapters,
  });

let cachedEngine: EngineDeps | undefined;

/** The engine jobs (tick, recompute, sweep): the store, the clock and the configured volatilities. */
export function engineWiring(env: NodeJS.ProcessEnv = process.env): EngineDeps {
  cachedEngine ??= systemOf(EngineEnvironment.parse(env)).engine;
  return cachedEngine;
}

const PriceEventEnvironment = EngineEnvironment.extend({
  BACKING_RECOMPUTE_QUEUE_URL: z.url().optional(),
});

let cachedPriceEvents: (EngineDeps & { queue?: TaskQueue }) | undefined;

/** The price-event handler: the engine, and the recompute queue for large ticks (inline without one). */
export function priceEventWiring(env: NodeJS.ProcessEnv = process.env): EngineDeps & { queue?: TaskQueue } {
  if (cachedPriceEvents) return cachedPriceEvents;
  const config = PriceEventEnvironment.parse(env);
  cachedPriceEvents = systemOf(config, queueOf(config)).tick;
  return cachedPriceEvents;
}

/** Funding prints (the same deps as price events: the table and the recompute queue). */
export const fundingEventWiring = priceEventWiring;

const queueOf = (config: { BACKING_RECOMPUTE_QUEUE_URL?: string | undefined }) =>
  config.BACKING_RECOMPUTE_QUEUE_URL ? { queue: sqsTaskQueue(config.BACKING_RECOMPUTE_QUEUE_URL) } : {};

const reportsOf = (config: z.infer<typeof JobEnvironment>) => ({
  reports: config.BACKING_REPORT_DIR
    ? folderReportStore(config.BACKING_REPORT_DIR)
    : s3ReportStore(config.BACKING_REPORT_BUCKET as string),
  rendering: exposureRendering,
});

/** Everything the scheduled report jobs need. */
export type JobDeps = StressJobDeps & ExposureJobDeps;

const ShardedJobEnvironment = JobEnvironment.and(
  z.object({
    /** The job workers' queue; absent: the cron runs every segment's task itself, in turn. */
    BACKING_JOB_QUEUE_URL: z.url().optional(),
    /** Segments of the book per job: one task (one worker invocation) each, per pass. Default: 16 with the queue, 1 without. */
    BACKING_JOB_SEGMENTS: z.coerce.number().int().min(1).max(1024).optional(),
  }),
);

let cachedJobs: { deps: JobDeps; queue: JobTaskQueue | null; segments: number } | undefined;

/** The exposure and stress crons (coordinators) and their workers: the store, the reports, the job queue. */
export function wiring(env: NodeJS.ProcessEnv = process.env): {
  deps: JobDeps;
  queue: JobTaskQueue | null;
  segments: number;
} {
  if (cachedJobs) return cachedJobs;
  const config = ShardedJobEnvironment.parse(env);
  cachedJobs = {
    deps: systemOf(config, reportsOf(config)).exposure(),
    queue: config.BACKING_JOB_QUEUE_URL ? sqsJobQueue(config.BACKING_JOB_QUEUE_URL) : null,
    segments: config.BACKING_JOB_SEGMENTS ?? (config.BACKING_JOB_QUEUE_URL ? SHARDED_JOB_SEGMENTS : 1),
  };
  return cachedJobs;
}

const ApiEnvironment = JobEnvironment.and(WebhookEnvironment).and(
  z.object({
    BACKING_RECOMPUTE_QUEUE_URL: z.url().optional(),
    /**
     * Local runs and tests: comma-separated SHA-256 hex of admin keys. In AWS the admin key is
     * the linked `AdminApiKey` secret, read through SST's Resource and hashed here.
     */
    BACKING_ADMIN_KEY_SHA256: z
      .string()
      .regex(/^[0-9a-f]{64}(,[0-9a-f]{64})*$/)
      .optional(),
    BACKING_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  }),
);

const deliveryOf = (config: z.infer<typeof WebhookEnvironment>) => ({
  delivery: deliveryEnvironment({ allowLoopback: config.BACKING_WEBHOOK_ALLOW_LOOPBACK === "true" }),
  onAttempt: ((_delivery, outcome) => countAttempt(outcome.result)) satisfies WebhookDeps["onAttempt"],
});

let cachedApi: ApiDeps | undefined;

/** The API function: the store, reports, webhook delivery, the recompute queue and the admin key. */
export function apiWiring(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  if (cachedApi) return cachedApi;
  const config = ApiEnvironment.parse(env);
  const { store, engine, webhooks, exposure } = systemOf(config, {
    ...reportsOf(config),
    ...deliveryOf(config),
    ...queueOf(config),
  });
  const hooks = webhooks();
  cachedApi = {
    ...engine,
    store,
    delivery: hooks.delivery,
    reports: exposure().reports,
    adminKeyHashes: config.BACKING_ADMIN_KEY_SHA256
      ? config.BACKING_ADMIN_KEY_SHA256.split(",")
      : [hashKey(Resource.AdminApiKey.value)],
    rateLimit: {
      perMinute: config.BACKING_RATE_LIMIT_PER_MINUTE,
      burst: Math.max(10, config.BACKING_RATE_LIMIT_PER_MINUTE / 6),
    },
    ...queueOf(config),
    ...(hooks.onAttempt ? { onAttempt: hooks.onAttempt } : {}),
    log: (entry) => logger.info("api request", { ...entry }),
    onPriceOutcomes: publishPriceOutcomes,
  };
  return cachedApi;
}

const SweepEnvironment = EngineEnvironment.extend({
  /** The sweep workers' queue; absent: the segments run one after another in the cron's invocation. */
  BACKING_SWEEP_QUEUE_URL: z.url().optional(),
  /** Segments of the book per sweep: one task (one worker invocation) each. */
  BACKING_SWEEP_SEGMENTS: z.coerce.number().int().min(1).max(1024).default(SHARDED_SWEEP_SEGMENTS),
  /** How often a sweep reads the whole book; the minutes between run index sweeps. 0: always in full. */
  BACKING_FULL_SWEEP_MINUTES: z.coerce
    .number()
    .min(0)
    .max(24 * 60)
    .default(FULL_SWEEP_EVERY_MS / 60_000),
});

let cachedSweep: { deps: ShardedSweepDeps; segments: number; fullEveryMs: number } | undefined;

/** The Sweep cron (the coordinator): the store, and the queue of segment tasks. */
export function sweepWiring(env: NodeJS.ProcessEnv = process.env): {
  deps: ShardedSweepDeps;
  segments: number;
  fullEveryMs: number;
} {
  if (cachedSweep) return cachedSweep;
  const config = SweepEnvironment.parse(env);
  cachedSweep = {
    deps: systemOf(
      config,
      config.BACKING_SWEEP_QUEUE_URL ? { sweepQueue: sqsSweepQueue(config.BACKING_SWEEP_QUEUE_URL) } : {},
    ).sweep(),
    segments: config.BACKING_SWEEP_SEGMENTS,
    fullEveryMs: config.BACKING_FULL_SWEEP_MINUTES * 60_000,
  };
  return cachedSweep;
}

let cachedSweepWorker: System["sweepWorker"] | undefined;

/** The sweep worker (one segment per message): the engine and the sweep's runs. */
export function sweepWorkerWiring(env: NodeJS.ProcessEnv = process.env): System["sweepWorker"] {
  cachedSweepWorker ??= systemOf(EngineEnvironment.parse(env)).sweepWorker;
  return cachedSweepWorker;
}

let cachedWebhooks: WebhookDeps | undefined;

const RedeliverEnvironment = z.object({
  /** How long one Redeliver run keeps polling for due retries (default 55 s of its minute; 0: one pass). */
  BACKING_REDELIVER_WINDOW_SECONDS: z.coerce
    .number()
    .min(0)
    .max(600)
    .default(REDELIVER_WINDOW_MS / 1000),
});

/** The Redeliver job: the webhook deps and how long its run polls. */
export function redeliverWiring(env: NodeJS.ProcessEnv = process.env) {
  const { BACKING_REDELIVER_WINDOW_SECONDS } = RedeliverEnvironment.parse(env);
  return { deps: webhookWiring(env), windowMs: BACKING_REDELIVER_WINDOW_SECONDS * 1000 };
}

/** The notify and redeliver handlers: the store, the clock, and delivery behind the SSRF guard. */
export function webhookWiring(env: NodeJS.ProcessEnv = process.env): WebhookDeps {
  if (cachedWebhooks) return cachedWebhooks;
  const config = WebhookEnvironment.parse(env);
  cachedWebhooks = systemOf(config, {
    ...deliveryOf(config),
    ...(config.BACKING_NOTIFICATION_TOPIC_ARN
      ? { topic: snsNotificationTopic(config.BACKING_NOTIFICATION_TOPIC_ARN) }
      : {}),
  }).webhooks();
  return cachedWebhooks;
}
