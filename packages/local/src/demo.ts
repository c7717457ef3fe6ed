import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ScenarioPack } from "@backing/contracts";
import {
  DEFAULT_LIQUIDATION,
  DEFAULT_RISK_PARAMS,
  DEFAULT_SCENARIO_PACK,
  type NotificationType,
  parsePortfolio,
  type StressSummaryRow,
  stressReport,
  stressSummaryRow,
  valueString,
} from "@backing/core";
import { connect, createTable, type DynamoEngineStore, dynamoStore } from "@backing/dynamo";
import {
  adlDeficitOf,
  cachedStore,
  composeSystem,
  type ExposureJobResult,
  expireCalls,
  explainNotifications,
  type NotificationRecord,
  redeliverDue,
  registerEndpoint,
  runTick,
  startExposureJob,
  WEBHOOK_TYPES,
} from "@backing/engine";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { deliveryEnvironment } from "@backing/webhooks";
import { demoBook } from "./demo-book.ts";
import { demoDepth } from "./demo-depth.ts";
import { type DynamoLocal, startDynamoLocal } from "./dynamo-local.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import { notificationPoller } from "./stream-poller.ts";
import { runOnThreads } from "./threads/job-threads.ts";
import { fileNotificationTopic } from "./topic-sink.ts";
import { VenueDesk } from "./venue-desk.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

export interface DemoOptions {
  accounts: number;
  scenario: string;
  /** An existing DynamoDB (BACKING_DYNAMODB_ENDPOINT); otherwise DynamoDB Local is started. */
  endpoint?: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (message: string, done: number, total: number) => void;
  /** Wall clock, for elapsedMs only (the engine itself runs on event time). */
  clock?: () => number;
  /** Where the reports go (default `out`). */
  outDir?: string;
  /** Called with the DynamoDB client before anything is sent: `bench:demo` counts the writes. */
  instrument?: (client: DynamoDBClient) => void;
}

export interface DemoSummary {
  scenario: string;
  accounts: number;
  ticks: number;
  accountsEvaluated: number;
  transitions: number;
  notifications: Partial<Record<NotificationType, number>>;
  skippedStale: number;
  invalidAccounts: number;
  /** The shipped stress pack over the book at the replay's last prices (no reverse stress here). */
  stress: StressSummaryRow[];
  /** Where the exposure report of the book at the replay's last prices was written. */
  reports: { exposureHtml: string; exposureJson: string };
  /**
   * What the venues did after the calls (DESIGN §3.12): accounts liquidated through the model, the
   * called clients who topped up (a seeded 30%), fees, bad debt, and the insurance fund and ADL
   * that covered it. The stress pack and the exposure report run on the book left afterwards.
   */
  venues: {
    liquidations: number;
    topUps: number;
    falseAlarms: number;
    liquidatedNotional: string;
    fees: string;
    badDebt: string;
    fundUsed: string;
    fundAfter: string;
    adlNotional: string;
  };
  /** Webhooks to the two venues with endpoints (venue-b's answers 503 once to its first 5 notifications). */
  webhooks: { delivered: number; verified: number; retried: number; parked: number; undelivered: number };
  /** Every margin notification re-run by `explain`: how many, and how many figures differed (0). */
  explained: { notifications: number; diffs: number };
  /** The local stand-in of the `MarginNotifications` SNS topic: distinct notifications published, and where. */
  topic: { published: number; file: string };
  /** From a tick's price events entering the engine to the venue's 2xx, first attempts only. */
  latencyMs: { p50: number; p99: number };
  /** Wall time of each phase in ms, in the order they ran (what `npm run bench:demo` compares). */
  phasesMs: Record<DemoPhase, number>;
  elapsedMs: number;
}

export const DEMO_PHASES = ["start", "seed", "replay", "stress", "exposure", "webhooks", "explain"] as const;
export type DemoPhase = (typeof DEMO_PHASES)[number];

/** How often the demo runs the redeliver job while it replays (`backing serve`'s cron: every minute). */
const REDELIVER_EVERY_MS = 1_000;

/**
 * The configured (default) implied volatilities: FTX week levels from reference §1.4 (stressed BTC
 * IV 80–130, ETH ≈ BTC + 10–25 vols, +60 at the peak). The replay's price events carry the path's
 * own volatility (scenarios/ftx-2022.ts), which the engine marks options at; these are the defaults
 * for the reports' evaluation before the first one and for what the path does not cover.
 */
const DEMO_VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };

/** The demo venues' liquidation fee on the closed notional (of the order venues publish; an assumption). */
const DEMO_LIQUIDATION_FEE = "0.005";

/** The share of called clients who deposit before the deadline (a seeded draw per call). */
const DEMO_TOP_UP = 0.3;

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const scenario = SCENARIOS[options.scenario];
  if (!scenario)
    throw new Error(`unknown scenario "${options.scenario}" (known: ${Object.keys(SCENARIOS).join(", ")})`);
  const path = scenario.path();
  const first = path[0];
  if (!first) throw new Error("empty scenario path");

  const phasesMs = Object.fromEntries(DEMO_PHASES.map((phase) => [phase, 0])) as Record<DemoPhase, number>;
  let phaseStarted = clock();
  const phaseDone = (phase: DemoPhase) => {
    const now = clock();
    phasesMs[phase] = now - phaseStarted;
    phaseStarted = now;
  };
  // The JVM starts while the book is drawn.
  const starting = options.endpoint ? undefined : startDynamoLocal();
  const book = demoBook({
    accounts: options.accounts,
    prices: first.prices,
    futureExpiry: "2022-12-30T08:00:00Z",
    optionExpiry: "2022-11-25T08:00:00Z",
  });
  const local: DynamoLocal | undefined = await starting;
  const endpoint = options.endpoint ?? (local as DynamoLocal).endpoint;
  try {
    const { client, documents } = connect({ endpoint });
    options.instrument?.(client);
    const tableName = `backing-demo-${started}`;
    await createTable(client, tableName);
    const rawStore = dynamoStore(documents, tableName);
    // The demo's venues charge a liquidation fee into their insurance fund (the defaults charge none).
    const params = {
      ...DEFAULT_RISK_PARAMS,
      version: `${DEFAULT_RISK_PARAMS.version}+venue-fee`,
      liquidation: { ...DEFAULT_LIQUIDATION, fee: DEMO_LIQUIDATION_FEE },
    };
    await rawStore.putParams(params);
    // The venues act on the calls as the replay goes: liquidations, the waterfall, top-ups.
    const desk = new VenueDesk({
      accounts: book,
      params,
      topUp: DEMO_TOP_UP,
      seed: 1,
      volatility: DEMO_VOLATILITY,
    });
    const store = desk.watch(cachedStore(rawStore, { ownsBook: true }));
    // The engine runs on the replay's event time (webhooks, in startVenues, on the wall clock).
    let replayNow = Date.parse(first.timestamp);
    const { engine, exposure: exposureDeps } = composeSystem({
      store,
      now: () => replayNow,
      volatility: DEMO_VOLATILITY,
      reports: folderReportStore(options.outDir ?? "out"),
      rendering: exposureRendering,
    });
    const webhooks = await startVenues(rawStore, endpoint, tableName, options.outDir ?? "out");
    phaseDone("start");

    const SEED_CHUNK = 1_000;
    for (let i = 0; i < book.length; i += SEED_CHUNK) {
      await store.putAccounts(book.slice(i, i + SEED_CHUNK));
      options.progress?.("seeding", Math.min(i + SEED_CHUNK, book.length), book.length);
    }
    await webhooks.listen();
    phaseDone("seed");

    const summary: DemoSummary = {
      scenario: options.scenario,
      accounts: book.length,
      ticks: 0,
      accountsEvaluated: 0,
      transitions: 0,
      notifications: {},
      skippedStale: 0,
      invalidAccounts: 0,
      stress: [],
      venues: {
        liquidations: 0,
        topUps: 0,
        falseAlarms: 0,
        liquidatedNotional: "0",
        fees: "0",
        badDebt: "0",
        fundUsed: "0",
        fundAfter: "0",
        adlNotional: "0",
      },
      reports: { exposureHtml: "", exposureJson: "" },
      webhooks: { delivered: 0, verified: 0, retried: 0, parked: 0, undelivered: 0 },
      topic: { published: 0, file: "" },
      explained: { notifications: 0, diffs: 0 },
      latencyMs: { p50: 0, p99: 0 },
      phasesMs,
      elapsedMs: 0,
    };
    const tickStarted = new Map<string, number>();
    // Retries are due on the wall clock: the redeliver job runs beside the replay, as its cron would.
    const redelivering = webhooks.redeliverEvery(REDELIVER_EVERY_MS);
    for (const [tick, point] of path.entries()) {
      replayNow = Date.parse(point.timestamp);
      tickStarted.set(new Date(replayNow).toISOString(), Date.now());
      const events = Object.entries(point.prices).map(([asset, index]) => ({
        eventId: `${options.scenario}:${asset}:${point.timestamp}`,
        asset,
        index,
        timestamp: point.timestamp,
        source: `replay:${options.scenario}`,
        // Options are marked at the path's implied volatility, as a feed would send it.
        ...(point.volatility[asset] ? { volatility: point.volatility[asset] } : {}),
      }));
      const { recompute } = await runTick(events, engine);
      summary.ticks++;
      summary.accountsEvaluated += recompute.evaluated;
      summary.transitions += recompute.written;
      summary.skippedStale += recompute.skippedStale;
      summary.invalidAccounts = Math.max(summary.invalidAccounts, recompute.invalid.length);
      await expireCalls(engine);
      await desk.afterStep(engine, replayNow);
      options.progress?.("replaying", tick + 1, path.length);
    }
    await redelivering.stop();
    // Every notification written, the venues' own writes' (their cures) included.
    summary.notifications = desk.notificationCounts();
    const totals = desk.totals();
    summary.venues = {
      liquidations: totals.liquidations,
      topUps: totals.topUps,
      falseAlarms: totals.falseAlarms,
      liquidatedNotional: totals.liquidatedNotional,
      fees: totals.fees,
      badDebt: totals.badDebt,
      fundUsed: totals.fundUsed,
      fundAfter: valueString(desk.fund),
      adlNotional: totals.adlNotional,
    };
    phaseDone("replay");
    const last = path[path.length - 1] ?? first;
    options.progress?.("stress", 0, 1);
    // The venues post their order books (as POST /v1/depth stores them): the stress cascades walk
    // them, and the exposure job's LDR and impact prices read them.
    const depth = demoDepth(last.prices, params.exposure?.depth ?? {}, last.timestamp);
    for (const snapshot of depth) await rawStore.putDepth(snapshot);
    const portfolio = parsePortfolio(
      {
        asOf: last.timestamp,
        prices: Object.fromEntries(Object.entries(last.prices).map(([asset, index]) => [asset, { index }])),
        volatility: DEMO_VOLATILITY,
        // The book the venues hold after the replay: liquidated, topped up, deleveraged.
        accounts: [...desk.docs.values()],
        depth: Object.fromEntries(depth.map((snapshot) => [snapshot.asset, snapshot])),
      },
      params,
    );
    const report = stressReport(portfolio, ScenarioPack.parse(DEFAULT_SCENARIO_PACK), { reverse: false });
    summary.stress = report.scenarios.map(stressSummaryRow);
    options.progress?.("stress", 1, 1);
    phaseDone("stress");
    // The scheduled exposure job, once, over the stored book: the HTML a risk manager opens.
    // The replay clock stands at the last tick.
    // Its segments on worker threads, one per core: the job worker Lambda's code.
    const deps = exposureDeps();
    const exposure = await runOnThreads<ExposureJobResult>(
      { endpoint, tableName, reportDir: options.outDir ?? "out", volatility: DEMO_VOLATILITY },
      // ADL exposure at the stress pack's largest shortfall of the fund, computed just above.
      (queue, segments) =>
        startExposureJob(deps, queue, {
          segments,
          adlDeficit: adlDeficitOf({ scenarios: summary.stress }) ?? "0",
        }),
      { onProgress: (done) => options.progress?.("exposure report", done, book.length) },
    );
    summary.reports = {
      exposureHtml: exposure.locations["exposure.html"] ?? "",
      exposureJson: exposure.locations["exposure.json"] ?? "",
    };
    phaseDone("exposure");
    options.progress?.("webhooks", 0, 1);
    const venues = [...new Set(book.map((account) => account.venue))].sort();
    const notifications = await webhooks.finish(tickStarted, venues);
    Object.assign(summary, notifications.summary);
    options.progress?.("webhooks", 1, 1);
    phaseDone("webhooks");
    // Every margin notification re-run from its stored evidence (what `backing explain` does).
    const margin = notifications.all.filter((n) => n.accountId !== null);
    const diffs = await explainNotifications(rawStore, margin, {
      onProgress: (done) => options.progress?.("explain", done, margin.length),
    });
    summary.explained = { notifications: margin.length, diffs: diffs.length };
    phaseDone("explain");
    summary.elapsedMs = clock() - started;
    return summary;
  } finally {
    await local?.stop();
  }
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number);

/** venue-b's endpoint answers 503 to its first notifications once: their retries show in the summary. */
const FAILING_FIRST_NOTIFICATIONS = 5;

/**
 * The venues' side of the demo: a receiver on loopback that verifies every signature with
 * `standardwebhooks`, endpoints for venue-a and venue-b (venue-c has none), the table's stream
 * polled into the notify handler's code path, and the redeliver job on the wall clock (webhook
 * timestamps and retries are real time; the engine runs on the replay's event time).
 */
async function startVenues(store: DynamoEngineStore, endpoint: string, tableName: string, outDir: string) {
  const topicFile = join(outDir, "topic", "margin-notifications.jsonl");
  await rm(topicFile, { force: true });
  const topic = fileNotificationTopic(topicFile);
  const secrets = new Map<string, string[]>();
  const failedOnce = new Set<string>();
  const receiver = await startWebhookReceiver({
    secrets: (path) => secrets.get(path) ?? [],
    fail: (path, id, attempt) => {
      // The first attempt of venue-b's first five notifications; their retries (5 s on) succeed.
      if (path !== "/venue-b" || attempt !== 1 || failedOnce.size >= FAILING_FIRST_NOTIFICATIONS)
        return false;
      failedOnce.add(id);
      return true;
    },
  });
  let retried = 0;
  const deps = composeSystem({
    store,
    now: Date.now,
    delivery: deliveryEnvironment({ allowLoopback: true }),
    topic,
    onAttempt: (delivery, outcome) => {
      if (outcome.result !== "delivered" && delivery.status === "pending") retried++;
    },
  }).webhooks();
  for (const venue of ["venue-a", "venue-b"]) {
    const registered = await registerEndpoint(deps, {
      venue,
      url: receiver.url(`/${venue}`),
      types: [...WEBHOOK_TYPES],
    });
    secrets.set(
      `/${venue}`,
      registered.secrets.map((s) => s.secret),
    );
  }
  const poller = notificationPoller(endpoint, tableName, deps);
  return {
    /** Starts delivering what is written from now on (the seeded book's records are skipped). */
    async listen() {
      await poller.skipToLatest();
      poller.start();
    },
    deps,
    /** The redeliver job every `intervalMs`, never two runs at once, until stopped. */
    redeliverEvery(intervalMs: number) {
      let running: Promise<void> | null = null;
      let failure: unknown = null;
      const timer = setInterval(() => {
        running ??= redeliverDue(deps)
          .then(
            () => {},
            (error: unknown) => {
              failure ??= error;
            },
          )
          .finally(() => {
            running = null;
          });
      }, intervalMs);
      return {
        async stop() {
          clearInterval(timer);
          await running;
          if (failure) throw failure;
        },
      };
    },
    /** Drains the stream and the retries due within the schedule's first step, then counts. */
    async finish(tickStarted: ReadonlyMap<string, number>, venues: readonly string[]) {
      await poller.stop({ drain: true });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const due = await store.dueDeliveries(Date.now() + 6_000, 1);
        if (due.length === 0) break;
        const wait = (due[0]?.nextAttemptAtMs ?? Date.now()) - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await redeliverDue(deps);
      }
      // Nothing lost: every notification of a venue with an endpoint reached it.
      // Read by venue from the notifications index (a Scan would read every item of the table).
      const all = (await Promise.all(venues.map((venue) => allVenueNotifications(store, venue)))).flat();
      const subscribed = all.filter((n) => secrets.has(`/${n.venue}`));
      const reached = new Set(
        receiver.received.filter((r) => r.status < 300).map((r) => `${r.path} ${r.id}`),
      );
      const undelivered = subscribed.filter((n) => !reached.has(`/${n.venue} ${n.id}`)).length;
      await receiver.close();
      const ok = receiver.received.filter((r) => r.status >= 200 && r.status < 300);
      const firstAttempts = new Map<string, number>();
      for (const r of receiver.received) {
        const key = `${r.path} ${r.id}`;
        if (!firstAttempts.has(key)) firstAttempts.set(key, r.status);
      }
      const latencies = ok
        .filter((r) => firstAttempts.get(`${r.path} ${r.id}`) === r.status && tickStarted.has(r.createdAt))
        .map((r) => r.atMs - (tickStarted.get(r.createdAt) as number))
        .sort((a, b) => a - b);
      return {
        all,
        summary: {
          webhooks: {
            delivered: ok.length,
            // Delivered webhooks whose signature the receiver verified (the failed first attempts are not counted).
            verified: ok.filter((r) => r.verified).length,
            retried,
            parked: (await store.failedDeliveries()).length,
            undelivered,
          },
          topic: { published: topic.published().size, file: topicFile },
          latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
        },
      };
    },
  };
}

/** Every notification of a venue, newest first, a page of the venue's index at a time. */
async function allVenueNotifications(store: DynamoEngineStore, venue: string) {
  const all: NotificationRecord[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await store.venueNotifications(venue, { limit: 1_000, ...(before ? { before } : {}) });
    all.push(...page.notifications);
    if (page.next === null) return all;
    before = page.next;
  }
}
