/**
 * `backing replay` (DESIGN §3.12): a price history through the real stateful engine on DynamoDB
 * (status machine, guards, trigger index, funding, deadlines), with the venue acting on the calls
 * (VenueDesk). Each parameter set runs the same path in a table of its own.
 */
import {
  type Account,
  type PriceEvent,
  ReplayNotification,
  type ReplayReport,
  type ReplayRun,
  type RiskParamsDocument,
} from "@backing/contracts";
import { valueString } from "@backing/core";
import { connect, createTable, type DynamoEngineStore, deleteTable, dynamoStore } from "@backing/dynamo";
import {
  cachedStore,
  composeSystem,
  expireCalls,
  redeliverDue,
  registerEndpoint,
  runFundingOrFanOut,
  runTick,
  WEBHOOK_TYPES,
} from "@backing/engine";
import { deliveryEnvironment } from "@backing/webhooks";
import { type DynamoLocal, startDynamoLocal } from "./dynamo-local.ts";
import type { ReplayStep } from "./replay-input.ts";
import { notificationPoller } from "./stream-poller.ts";
import { VenueDesk } from "./venue-desk.ts";

export interface ReplayInput {
  /** The path's name as the report shows it (a file, or a shipped path's id). */
  path: string;
  steps: readonly ReplayStep[];
  accounts: readonly Account[];
  /** The portfolio's prices: the assets the path never prices keep these, re-sent each step. */
  prices: Record<string, { index: string; mark?: string }>;
  volatility: Record<string, string>;
  cumulativeFunding: Record<string, Record<string, string>>;
  asOf: string;
  /** One run per parameter set, in order. */
  params: readonly RiskParamsDocument[];
  topUp: number;
  seed: number;
}

export interface ReplayOptions {
  /** An existing DynamoDB; otherwise DynamoDB Local is started. */
  endpoint?: string;
  /**
   * Every venue's margin notifications, signed (Standard Webhooks), to this URL as the replay
   * makes them: the venue's webhook integration tested against a real crash.
   */
  webhook?: {
    url: string;
    secret?: string;
    allowLoopback: boolean;
    /** Told each venue's endpoint and the secret it signs with. */
    onEndpoint?: (venue: string, secret: string) => void;
  };
  progress?: (message: string, done: number, total: number) => void;
}

/** Price events per request: the engine's batch limit. */
const EVENT_BATCH = 1000;

/** Notifications of one account and time, in the order the contract lists their types. */
const NOTIFICATION_ORDER: readonly string[] = ReplayNotification.shape.type.options;

export async function runReplay(input: ReplayInput, options: ReplayOptions = {}): Promise<ReplayReport> {
  const local: DynamoLocal | undefined = options.endpoint ? undefined : await startDynamoLocal();
  const endpoint = options.endpoint ?? (local as DynamoLocal).endpoint;
  try {
    const runs: ReplayRun[] = [];
    const { client, documents } = connect({ endpoint });
    for (const [i, params] of input.params.entries()) {
      // A table per run, dropped after it: nothing of one parameter set leaks into the next.
      const tableName = `backing-replay-${Date.now()}-${i}`;
      // The stream is read only to send webhooks.
      await createTable(client, tableName, { stream: options.webhook !== undefined });
      try {
        runs.push(await runOnce(input, params, { endpoint, documents, tableName }, options));
      } finally {
        await deleteTable(client, tableName);
      }
    }
    return { path: input.path, steps: input.steps.length, runs };
  } finally {
    await local?.stop();
  }
}

async function runOnce(
  input: ReplayInput,
  params: RiskParamsDocument,
  table: { endpoint: string; documents: ReturnType<typeof connect>["documents"]; tableName: string },
  options: ReplayOptions,
): Promise<ReplayRun> {
  const { endpoint, documents, tableName } = table;
  const desk = new VenueDesk({
    accounts: input.accounts,
    params,
    topUp: input.topUp,
    seed: input.seed,
    volatility: input.volatility,
  });
  const store = desk.watch(cachedStore(dynamoStore(documents, tableName), { ownsBook: true }));
  await store.putParams(params);
  const asOfMs = Date.parse(input.asOf);
  for (const [venue, assets] of Object.entries(input.cumulativeFunding))
    for (const [asset, cumulative] of Object.entries(assets))
      await store.applyFunding(
        { venue, asset, cumulative, fundingTimeMs: asOfMs, eventId: `portfolio:${venue}:${asset}` },
        null,
      );
  await store.putAccounts([...input.accounts]);
  const webhooks = options.webhook
    ? await startWebhooks(
        dynamoStore(documents, tableName),
        endpoint,
        tableName,
        input.accounts,
        options.webhook,
      )
    : null;
  let now = input.steps[0]?.timeMs ?? asOfMs;
  const { engine } = composeSystem({ store, now: () => now, volatility: input.volatility });

  // The assets the path never prices keep the portfolio's price, re-sent each step so they stay fresh.
  const pathAssets = new Set(input.steps.flatMap((s) => s.prices.map((p) => p.asset)));
  const constant = Object.entries(input.prices).filter(([asset]) => !pathAssets.has(asset));
  const latest: Record<string, string> = Object.fromEntries(
    Object.entries(input.prices).map(([asset, p]) => [asset, p.index]),
  );
  const timeline: ReplayRun["timeline"] = [];
  try {
    for (const [n, step] of input.steps.entries()) {
      now = step.timeMs;
      const events: PriceEvent[] = [
        ...step.prices,
        ...constant.map(([asset, p]) => ({
          eventId: `replay:portfolio:${asset}:${step.timestamp}`,
          asset,
          index: p.index,
          ...(p.mark ? { mark: p.mark } : {}),
          timestamp: step.timestamp,
          source: "replay:portfolio",
        })),
      ];
      for (let i = 0; i < events.length; i += EVENT_BATCH)
        await runTick(events.slice(i, i + EVENT_BATCH), engine);
      for (const event of step.prices) latest[event.asset] = event.index;
      if (step.funding.length > 0) await runFundingOrFanOut(step.funding, engine);
      await expireCalls(engine);
      await desk.afterStep(engine, now);
      timeline.push({
        timestamp: step.timestamp,
        prices: { ...latest },
        accountsByStatus: desk.accountsByStatus(),
        insuranceFund: valueString(desk.fund),
      });
      options.progress?.(`replay ${params.version}`, n + 1, input.steps.length);
    }
  } catch (error) {
    // The poller must not outlive a failed run (it would keep the process alive).
    await webhooks?.abort();
    throw error;
  }
  const delivered = await webhooks?.finish();
  const notifications = [...desk.notifications].sort(
    (a, b) =>
      a.timestamp.localeCompare(b.timestamp) ||
      (a.account < b.account ? -1 : a.account > b.account ? 1 : 0) ||
      NOTIFICATION_ORDER.indexOf(a.type) - NOTIFICATION_ORDER.indexOf(b.type),
  );
  const accounts = Object.fromEntries([...desk.accounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    paramsVersion: params.version,
    totals: desk.totals(),
    timeline,
    notifications,
    accounts,
    ...(delivered ? { webhooks: delivered } : {}),
  };
}

const MARGIN_TYPES = WEBHOOK_TYPES.filter((type) => type.startsWith("margin."));

/**
 * An endpoint per venue of the book at `url`, the table's stream polled into the notify
 * handler's code (as `backing serve` and the demo do), and the retries due run at the end.
 */
async function startWebhooks(
  store: DynamoEngineStore,
  endpoint: string,
  tableName: string,
  accounts: readonly Account[],
  target: NonNullable<ReplayOptions["webhook"]>,
) {
  let delivered = 0;
  const deps = composeSystem({
    store,
    now: Date.now,
    delivery: deliveryEnvironment({ allowLoopback: target.allowLoopback }),
    onAttempt: (_, outcome) => {
      if (outcome.result === "delivered") delivered++;
    },
  }).webhooks();
  for (const venue of [...new Set(accounts.map((a) => a.venue))].sort()) {
    const registered = await registerEndpoint(deps, { venue, url: target.url, types: [...MARGIN_TYPES] });
    if (target.secret)
      await store.putEndpoint({ ...registered, secrets: [{ secret: target.secret, expiresAtMs: null }] });
    target.onEndpoint?.(venue, target.secret ?? (registered.secrets[0]?.secret as string));
  }
  const poller = notificationPoller(endpoint, tableName, deps);
  await poller.skipToLatest();
  poller.start();
  return {
    async abort() {
      await poller.stop({ drain: false });
    },
    /** Drains the stream, runs the retries due within FIRST_RETRIES_MS, and counts. */
    async finish() {
      await poller.stop({ drain: true });
      const deadline = Date.now() + FIRST_RETRIES_MS;
      for (;;) {
        const due = await store.dueDeliveries(deadline, 1);
        const next = due[0]?.nextAttemptAtMs;
        if (next === undefined || next === null) break;
        if (next > Date.now()) await new Promise((resolve) => setTimeout(resolve, next - Date.now()));
        await redeliverDue(deps);
      }
      const parked = (await store.failedDeliveries()).length;
      const pending = (await store.dueDeliveries(Number.MAX_SAFE_INTEGER, 1000)).length;
      return { delivered, parked, pending };
    },
  };
}

/** The retry schedule's first steps (immediately, 5 s): later retries are left pending, and counted. */
const FIRST_RETRIES_MS = 10_000;
