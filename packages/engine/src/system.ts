/**
 * The one composition root. The Lambda wiring (functions/wiring.ts), `backing serve`, the demo and
 * the CLI each bring their adapters (a store, a clock, webhook delivery, a report store, a queue, a
 * topic) and get every job's deps from here, so they run the same jobs on the same deps.
 */
import type { DeliveryEnvironment } from "@backing/webhooks";
import type { EngineDeps } from "./deps.ts";
import type { ExposureJobDeps, ExposureRendering } from "./exposure-job.ts";
import type { ReportStore, Store } from "./ports/index.ts";
import type { StressJobDeps } from "./stress-job.ts";
import { inlineSweepQueue, type ShardedSweepDeps, type SweepTaskQueue } from "./sweep-shards.ts";
import type { TaskQueue } from "./tick.ts";
import type { NotificationTopic, WebhookDeps } from "./webhooks/deps.ts";

export interface Adapters {
  store: Store;
  now: () => number;
  /** Implied vols for options without a markPrice. */
  volatility?: Record<string, string>;
  /** Webhook delivery (the SSRF guard, the resolver, the HTTP client): only where webhooks are sent. */
  delivery?: DeliveryEnvironment;
  /** The operators' topic every notification is also published to. */
  topic?: NotificationTopic;
  onAttempt?: WebhookDeps["onAttempt"];
  /** Where full reports go, and how the exposure report is rendered: only where reports are made. */
  reports?: ReportStore;
  rendering?: ExposureRendering;
  /** Large ticks' shard tasks; inline without one. */
  queue?: TaskQueue;
  /** The sharded sweep's segment tasks (SQS in AWS); absent: the coordinator runs them itself, in turn. */
  sweepQueue?: SweepTaskQueue;
}

export interface System {
  /** Every role port (the API needs them all). */
  store: Store;
  /** The tick, recompute, sweep and expiry jobs. */
  engine: EngineDeps;
  /** A tick that fans out to the queue when one is configured. */
  tick: EngineDeps & { queue?: TaskQueue };
  webhooks: () => WebhookDeps;
  stress: () => StressJobDeps;
  exposure: () => ExposureJobDeps;
  /** The sharded sweep: its coordinator, and its workers. */
  sweep: () => ShardedSweepDeps;
  sweepWorker: EngineDeps & { store: Store };
}

const missing = (adapter: string, job: string) =>
  new Error(`${job} needs ${adapter}: this runtime did not configure it`);

export function composeSystem(adapters: Adapters): System {
  const engine: EngineDeps = {
    store: adapters.store,
    now: adapters.now,
    volatility: adapters.volatility ?? {},
  };
  const sweepWorker = { ...engine, store: adapters.store };
  const reports = (job: string) => {
    if (!adapters.reports) throw missing("a report store", job);
    return adapters.reports;
  };
  return {
    store: adapters.store,
    engine,
    tick: { ...engine, ...(adapters.queue ? { queue: adapters.queue } : {}) },
    webhooks: () => {
      if (!adapters.delivery) throw missing("webhook delivery", "sending webhooks");
      return {
        store: adapters.store,
        now: adapters.now,
        delivery: adapters.delivery,
        ...(adapters.topic ? { topic: adapters.topic } : {}),
        ...(adapters.onAttempt ? { onAttempt: adapters.onAttempt } : {}),
      };
    },
    stress: () => ({ ...sweepWorker, reports: reports("the stress job") }),
    sweep: () => ({ ...sweepWorker, sweepQueue: adapters.sweepQueue ?? inlineSweepQueue(sweepWorker) }),
    sweepWorker,
    exposure: () => {
      if (!adapters.rendering) throw missing("an exposure rendering", "the exposure job");
      return { ...sweepWorker, reports: reports("the exposure job"), rendering: adapters.rendering };
    },
  };
}
