import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { ResourceInUseException } from "@aws-sdk/client-dynamodb";
import { createApi, hashKey } from "@backing/api";
import { connect, createTable, dynamoStore, streamEntries } from "@backing/dynamo";
import {
  composeSystem,
  consumeNotificationStream,
  consumeRecomputeTasks,
  type ExposureJobResult,
  endpointGate,
  notAppliedLogs,
  redeliverWindow,
  type StressJobResult,
  startExposureJob,
  startStressJob,
  sweepAccounts,
} from "@backing/engine";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { deliveryEnvironment } from "@backing/webhooks";
import { serve as serveHttp } from "@hono/node-server";
import { type DynamoLocal, startDynamoLocal } from "./dynamo-local.ts";
import { fileCheckpoints, StreamPoller } from "./stream-poller.ts";
import { inProcessQueue } from "./task-queue.ts";
import { runOnThreads } from "./threads/job-threads.ts";
import { fileNotificationTopic } from "./topic-sink.ts";

/** The same schedules as sst.config.ts's CronV2 jobs. */
export const SCHEDULES = {
  sweep: 60_000,
  redeliver: 60_000,
  exposure: 3_600_000,
  stress: 6 * 3_600_000,
} as const;

export interface ServeOptions {
  /** Where DynamoDB Local keeps its data (`-dbPath`), the admin key, checkpoints and reports. */
  dataDir: string;
  port: number;
  host: string;
  /** An existing DynamoDB instead of starting DynamoDB Local. */
  endpoint?: string;
  tableName?: string;
  /** Implied vols for options without a markPrice. */
  volatility?: Record<string, string>;
  /** Loopback webhook endpoints (local receivers); off by default, as in AWS. */
  allowLoopbackWebhooks?: boolean;
  schedules?: Partial<Record<keyof typeof SCHEDULES, number>>;
  /** Requests per minute per API key (default 600, bursts of 100). */
  rateLimitPerMinute?: number;
  /** One structured JSON object per event (the caller writes it as a line). */
  log: (entry: Record<string, unknown>) => void;
}

export interface RunningSystem {
  url: string;
  dynamoEndpoint: string;
  tableName: string;
  /** Set on the first start only: the admin key, also written to `<dataDir>/admin-key`. */
  createdAdminKey: string | null;
  adminKeyFile: string;
  /** Stops taking requests, lets in-flight requests and jobs finish, drains the stream, stops DynamoDB Local. */
  stop(): Promise<void>;
}

/** Reads the admin key from the data directory, creating it (mode 0600) on the first start. */
async function adminKey(dataDir: string): Promise<{ key: string; created: boolean; file: string }> {
  const file = join(dataDir, "admin-key");
  try {
    return { key: (await readFile(file, "utf8")).trim(), created: false, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const key = `bk_${randomBytes(32).toString("base64url")}`;
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: "wx" });
    return { key, created: true, file };
  }
}

/**
 * The table layout this version reads, kept in the data directory: raised whenever stored keys
 * or documents move (2: risk states in RISKSTATES#<shard>, states and notifications as JSON).
 */
const STORAGE_LAYOUT = "2";

/**
 * The long-running local system (`backing serve`): DynamoDB Local with a persistent store, the
 * HTTP API on loopback, the cron jobs in-process, the stream poller delivering webhooks, and
 * the recompute queue in-process. Everything persists under `dataDir`: a restart continues.
 */
export async function startSystem(options: ServeOptions): Promise<RunningSystem> {
  const { log } = options;
  // The store holds webhook secrets (and hashes of API keys): only the owner may read the folder.
  await mkdir(join(options.dataDir, "dynamodb"), { recursive: true, mode: 0o700 });
  await Promise.all([chmod(options.dataDir, 0o700), chmod(join(options.dataDir, "dynamodb"), 0o700)]);
  const admin = await adminKey(options.dataDir);
  let local: DynamoLocal | undefined;
  if (!options.endpoint)
    local = await startDynamoLocal({ dbPath: join(options.dataDir, "dynamodb"), callerHandlesSignals: true });
  const endpoint = options.endpoint ?? (local as DynamoLocal).endpoint;
  const tableName = options.tableName ?? "backing";
  const { client, documents } = connect({ endpoint });
  const layoutFile = join(options.dataDir, "layout");
  try {
    await createTable(client, tableName);
    await writeFile(layoutFile, `${STORAGE_LAYOUT}\n`);
    log({ level: "INFO", message: "table created", table: tableName });
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    // A table this version would misread (states under other keys read as none: every held call
    // would be issued again) is refused, not used.
    const layout = (await readFile(layoutFile, "utf8").catch(() => "1")).trim();
    if (layout !== STORAGE_LAYOUT) {
      await local?.stop();
      throw new Error(
        `${options.dataDir} holds data in storage layout ${layout}; this version reads layout ${STORAGE_LAYOUT} ` +
          "(risk states moved). Start with another --data-dir, or delete this one to begin afresh.",
      );
    }
  }
  const delivery = deliveryEnvironment({ allowLoopback: options.allowLoopbackWebhooks === true });
  const reports = folderReportStore(join(options.dataDir, "reports"));
  const threads = {
    endpoint,
    tableName,
    reportDir: join(options.dataDir, "reports"),
    volatility: options.volatility ?? {},
  };
  const {
    store,
    engine,
    webhooks: webhookDeps,
    stress,
    exposure,
  } = composeSystem({
    store: dynamoStore(documents, tableName),
    now: Date.now,
    volatility: options.volatility ?? {},
    delivery,
    topic: fileNotificationTopic(join(options.dataDir, "topic", "margin-notifications.jsonl")),
    onAttempt: (d, outcome) =>
      log({
        level: "INFO",
        message: "webhook attempt",
        notificationId: d.notificationId,
        endpointId: d.endpointId,
        result: outcome.result,
        status: outcome.status,
      }),
    reports,
    rendering: exposureRendering,
  });
  const webhooks = webhookDeps();
  const queue = inProcessQueue(async (event) =>
    consumeRecomputeTasks(engine, event.Records, (messageId, error) =>
      log({ level: "ERROR", message: "recompute task failed", messageId, error: String(error) }),
    ),
  );

  // Long-running job loops (the redeliver window) end at a shutdown instead of finishing their minute.
  const shutdown = new AbortController();
  // In-flight work, so a shutdown waits for it.
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => {});
    return work;
  };

  const poller = new StreamPoller({
    endpoint,
    tableName,
    checkpoints: fileCheckpoints(join(options.dataDir, "stream-checkpoints.json")),
    handler: (event) =>
      consumeNotificationStream(webhooks, streamEntries(event.Records), (poison) =>
        log({ level: "ERROR", message: "poison stream record skipped", ...poison }),
      ),
    onDiscard: (record, reason) =>
      log({
        level: "ERROR",
        message: "stream record discarded",
        sequenceNumber: record.dynamodb?.SequenceNumber,
        reason,
      }),
  });
  poller.start();

  // The cron jobs: each on its schedule, never two runs of one job at once.
  const jobs: Record<keyof typeof SCHEDULES, () => Promise<Record<string, unknown>>> = {
    sweep: async () => {
      const r = await sweepAccounts(engine);
      return {
        accounts: r.accounts,
        evaluated: r.evaluated,
        written: r.written,
        expired: r.expired,
        staleAssets: r.staleAssets,
        markGuardedAssets: r.markGuardedAssets,
        unwatched: r.unwatched,
      };
    },
    redeliver: async () => ({ ...(await redeliverWindow(webhooks, { signal: shutdown.signal })) }),
    // The whole-book reports' segments on worker threads, one per core (the job worker Lambda's code).
    exposure: async () => {
      const deps = exposure();
      const r = await runOnThreads<ExposureJobResult>(threads, (queue, segments) =>
        startExposureJob(deps, queue, { segments }),
      );
      return { reportId: r.reportId, accounts: r.accounts, notifications: r.notifications };
    },
    stress: async () => {
      const deps = stress();
      const r = await runOnThreads<StressJobResult>(threads, (queue, segments) =>
        startStressJob(deps, queue, { segments }),
      );
      return { reportId: r.reportId, accounts: r.accounts, notifications: r.notifications };
    },
  };
  const running = new Set<string>();
  const timers = Object.entries(jobs).map(([name, job]) => {
    const every =
      options.schedules?.[name as keyof typeof SCHEDULES] ?? SCHEDULES[name as keyof typeof SCHEDULES];
    return setInterval(() => {
      if (running.has(name)) return;
      running.add(name);
      const started = Date.now();
      track(
        job()
          .then((result) =>
            log({
              level: "INFO",
              message: `${name} done`,
              job: name,
              durationMs: Date.now() - started,
              ...result,
            }),
          )
          .catch((error) =>
            log({ level: "ERROR", message: `${name} failed`, job: name, error: String(error) }),
          )
          .finally(() => running.delete(name)),
      );
    }, every);
  });

  const app = createApi({
    ...engine,
    store,
    delivery,
    reports,
    adminKeyHashes: [hashKey(admin.key)],
    ...(options.rateLimitPerMinute
      ? {
          rateLimit: {
            perMinute: options.rateLimitPerMinute,
            burst: Math.max(10, options.rateLimitPerMinute / 6),
          },
        }
      : {}),
    queue,
    log: (entry) => log({ level: "INFO", message: "api request", ...entry }),
    onPriceOutcomes: (outcomes) => {
      for (const { level, entry } of notAppliedLogs(outcomes))
        log({ level: level.toUpperCase(), message: "price event not applied", ...entry });
    },
  });
  const server = serveHttp({
    fetch: (request) => track(Promise.resolve(app.fetch(request))),
    port: options.port,
    hostname: options.host,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", () => resolve());
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;

  let stopping: Promise<void> | undefined;
  return {
    url,
    dynamoEndpoint: endpoint,
    tableName,
    createdAdminKey: admin.created ? admin.key : null,
    adminKeyFile: admin.file,
    stop() {
      stopping ??= (async () => {
        log({ level: "INFO", message: "shutting down", inFlight: inFlight.size });
        for (const timer of timers) clearInterval(timer);
        shutdown.abort();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...inFlight]);
        await poller.stop({ drain: true });
        // Attempts a notify batch left to finish alone are recorded before the store goes (each
        // ends by its timeout), so a restart does not send them again.
        await endpointGate(webhooks).idle();
        await local?.stop();
        log({ level: "INFO", message: "stopped" });
      })();
      return stopping;
    },
  };
}
