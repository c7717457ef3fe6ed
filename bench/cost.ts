/**
 * Cost bench (npm run bench:cost), DESIGN §4.1 and §8: the reference day measured on DynamoDB Local
 * at a scaled-down book (BENCH_ACCOUNTS, default 2,000; about 7 minutes) and priced at 1,000,000
 * accounts. The book is small because the crash hour rewrites many trigger bands and DynamoDB Local
 * indexes about a thousand a second; what grows with the book grows linearly, so the per-account
 * figures are the same at any size.
 *
 * The reference day: 3 venues; BTC, ETH and SOL priced once a second each; 23 calm hours and one
 * crash hour (−15 % over 20 minutes, then +10 % over 40); the safety-net sweep every minute (a
 * status change the trigger index misses is found within 60 s); exposure hourly; stress every 6 h;
 * a webhook per notification; a funding print every 8 h per venue and asset (3 × 3 × 3 a day).
 *
 * Every DynamoDB call returns its ConsumedCapacity into a meter, by component. Calm hours are
 * sampled (BENCH_CALM_SECONDS, default 900 s of ticks) and multiplied up; the crash hour runs whole.
 * What scales with the book and what with the ticks is measured, not assumed: a tick that crosses
 * no band gives each tick's fixed cost; the rest of a phase's units grow with the accounts. The
 * price module (aws-prices.ts) and the model (cost-model.ts) turn units and CPU time into dollars.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "@backing/core";
import { CapacityMeter, connect, createTable, dynamoStore, streamEntries } from "@backing/dynamo";
import {
  composeSystem,
  consumeNotificationStream,
  expireCalls,
  FULL_SWEEP_EVERY_MS,
  ingestPriceEvents,
  REDELIVER_POLL_MS,
  REDELIVER_WINDOW_MS,
  redeliverDue,
  registerEndpoint,
  runExposureJob,
  runFundingOrFanOut,
  runStressJob,
  runTick,
  startShardedSweep,
  sweepAccounts,
  WEBHOOK_TYPES,
} from "@backing/engine";
import { demoBook, StreamPoller, startDynamoLocal, startWebhookReceiver } from "@backing/local";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { deliveryEnvironment } from "@backing/webhooks";
import { AWS_PRICES } from "./aws-prices.ts";
import {
  added,
  type ComponentModel,
  type DailyCost,
  dailyCost,
  noUsage,
  scaled,
  storagePerDay,
  type Usage,
} from "./cost-model.ts";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 2_000);
const TARGET = 1_000_000;
const CALM_SECONDS = Number(process.env.BENCH_CALM_SECONDS ?? 900);
/** The crash hour runs whole (1 tick a second); a shorter BENCH_CRASH_SECONDS compresses it, for a quick look only. */
const CRASH_SECONDS = Number(process.env.BENCH_CRASH_SECONDS ?? 3_600);
const SWEEPS_PER_DAY = 1_440;
/** A full sweep every 15 minutes (FULL_SWEEP_EVERY_MS); index sweeps the other minutes. */
const FULL_SWEEPS_PER_DAY = (24 * 60 * 60_000) / FULL_SWEEP_EVERY_MS;
const TICKS_PER_SECOND = 3;
const TABLE = "bench-cost";
const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const MOVING = ["BTC", "ETH", "SOL"] as const;
/** Daily volatility of the calm hours' random walk (reference stress-and-exposure.md: about 3–5 %). */
const DAILY_VOL = { BTC: 0.03, ETH: 0.04, SOL: 0.05 };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const T0 = Date.parse("2022-11-08T00:00:00Z");
const progress = (message: string) => process.stderr.write(`${message}\n`);

const meter = new CapacityMeter();
const local = await startDynamoLocal({ maxHeap: "1g" });
const reportDir = await mkdtemp(join(tmpdir(), "bench-cost-"));
const receiver = await startWebhookReceiver({ secrets: (path) => secrets.get(path) ?? [] });
const secrets = new Map<string, string[]>();
let clock = T0;
const now = () => clock;

try {
  const { client, documents } = connect({ endpoint: local.endpoint, meter });
  await createTable(client, TABLE);
  const store = dynamoStore(documents, TABLE);
  const system = composeSystem({
    store,
    now,
    volatility: VOLATILITY,
    reports: folderReportStore(reportDir),
    rendering: exposureRendering,
  });
  // Webhooks are signed and retried on the wall clock (the receiver checks their timestamps); the
  // engine runs on the day's event time.
  const webhooks = composeSystem({
    store,
    now: Date.now,
    delivery: deliveryEnvironment({ allowLoopback: true }),
  }).webhooks();
  for (const venue of ["venue-a", "venue-b", "venue-c"]) {
    const registered = await registerEndpoint(webhooks, {
      venue,
      url: receiver.url(`/${venue}`),
      types: [...WEBHOOK_TYPES],
    });
    secrets.set(
      `/${venue}`,
      registered.secrets.map((s) => s.secret),
    );
  }

  // --- the book: every account written once through the store, as an import would -------------
  const book = demoBook({
    accounts: ACCOUNTS,
    prices: PRICES,
    futureExpiry: "2022-12-30T08:00:00Z",
    optionExpiry: "2022-11-25T08:00:00Z",
  });
  progress(`seeding ${ACCOUNTS.toLocaleString("en-US")} accounts …`);
  const api = await measure("api", async () => {
    for (let i = 0; i < book.length; i += 1_000) await store.putAccounts(book.slice(i, i + 1_000));
  });
  const prices: Record<string, number> = Object.fromEntries(
    Object.entries(PRICES).map(([asset, price]) => [asset, Number(price)]),
  );
  const priceEvents = (second: number, assets: readonly string[]) =>
    assets.map((asset) => ({
      eventId: `${asset}@${second}`,
      asset,
      index: (prices[asset] as number).toPrecision(8),
      timestamp: new Date(T0 + second * 1000).toISOString(),
      source: "bench",
    }));
  await ingestPriceEvents(priceEvents(0, Object.keys(PRICES)), { store, now });
  await sweepAccounts({ store, now, volatility: VOLATILITY }, { pageSize: 1_000 });

  const poller = new StreamPoller({
    endpoint: local.endpoint,
    tableName: TABLE,
    idleMs: 50,
    batchSize: 1000,
    handler: (event) =>
      meter.run("webhooks", () =>
        consumeNotificationStream(webhooks, streamEntries(event.Records), () => {}),
      ),
  });
  await poller.skipToLatest();
  poller.start();
  let second = 0;
  const random = seededRandom(2022);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let evaluations = 0;
  let notifications = 0;
  const tickSecond = async () => {
    second++;
    clock = T0 + second * 1000;
    // Stablecoins and stETH (at ETH's ratio) are priced once a minute: fresh, or every call on
    // accounts that hold them would be held as stale (maxPriceAgeSeconds).
    if (second % 60 === 0) prices.stETH = (prices.ETH as number) * (1593.9 / 1610);
    const assets = second % 60 === 0 ? Object.keys(PRICES) : MOVING;
    const { recompute } = await runTick(priceEvents(second, assets), { store, now, volatility: VOLATILITY });
    evaluations += recompute.evaluated;
    notifications += Object.values(recompute.notifications).reduce((a, b) => a + (b ?? 0), 0);
  };

  // --- a tick's own cost: prices that move by a millionth, inside every band (a new event each) ---
  const quietTicks = 30;
  const fixedTick = scaled(
    await measure("ticks", async () => {
      for (let i = 0; i < quietTicks; i++) {
        for (const asset of MOVING)
          prices[asset] = (prices[asset] as number) * (i % 2 === 0 ? 1.000001 : 1 / 1.000001);
        await tickSecond();
      }
    }),
    1 / (quietTicks * TICKS_PER_SECOND),
  );
  const quietEvaluations = evaluations;

  // --- calm hours, sampled: a random walk at each asset's daily volatility ------------------------
  progress(`calm: ${CALM_SECONDS} s of ticks (sampled for 23 h) …`);
  const calm = await measure("ticks", async () => {
    for (let s = 0; s < CALM_SECONDS; s++) {
      for (const asset of MOVING)
        prices[asset] = (prices[asset] as number) * (1 + (DAILY_VOL[asset] / Math.sqrt(86_400)) * gaussian());
      await tickSecond();
    }
  });

  // --- the crash hour: −15 % over 20 minutes, then +10 % over 40, with the calm hours' noise -----
  progress("crash hour: 3,600 s of ticks …");
  const start = { ...prices };
  const webhooksBefore = meter.totals().webhooks ?? { readUnits: 0, writeUnits: 0, requests: 0 };
  const crash = await measure("ticks", async () => {
    for (let s = 0; s < CRASH_SECONDS; s++) {
      const fall = CRASH_SECONDS / 3;
      const path =
        s < fall ? 1 - (0.15 * s) / fall : 0.85 * (1 + (0.1 * (s - fall)) / (CRASH_SECONDS - fall));
      for (const asset of MOVING)
        prices[asset] =
          (start[asset] as number) * path * (1 + (DAILY_VOL[asset] / Math.sqrt(86_400)) * gaussian());
      await tickSecond();
      if (s % 600 === 599) progress(`  ${s + 1} s`);
    }
  });
  const crashEvaluations = evaluations;
  await poller.stop({ drain: true });
  const webhooksAfter = meter.totals().webhooks ?? webhooksBefore;
  const delivered = receiver.received.filter((r) => r.status < 300).length;

  // --- the whole-book jobs, once each ------------------------------------------------------------
  progress("sweep, exposure, stress, expiry and redelivery, once each …");
  const sweep = await measure("sweep", async () => {
    const start = await startShardedSweep(system.sweep(), { fullEveryMs: 0 });
    if (!start.started || start.mode !== "full") throw new Error("expected a full sweep");
  });
  const indexSweep = await measure("index sweep", async () => {
    const start = await startShardedSweep(system.sweep());
    if (!start.started || start.mode !== "index") throw new Error("expected an index sweep");
  });
  const expire = await measure("expire", async () => {
    await expireCalls(system.engine);
  });
  const exposure = await measure("exposure", async () => {
    await runExposureJob(system.exposure());
  });
  const stress = await measure("stress", async () => {
    await runStressJob(system.stress());
  });
  // One funding print (venue-a, BTC): F moves and every account exposed to BTC is re-evaluated.
  const funding = await measure("funding", async () => {
    await runFundingOrFanOut(
      {
        eventId: "funding-bench",
        venue: "venue-a",
        asset: "BTC",
        rate: "0.0001",
        fundingTime: new Date(clock).toISOString(),
        source: "bench",
      },
      system.engine,
    );
  });
  // One poll of the Redeliver run; a run polls each second for 55 s and sleeps in between.
  const redeliverPoll = await measure("redeliver", async () => {
    await redeliverDue(webhooks);
  });
  const polls = REDELIVER_WINDOW_MS / REDELIVER_POLL_MS + 1;
  const redeliver: Usage = {
    ...scaled(redeliverPoll, polls),
    waitSeconds: (polls - 1) * (REDELIVER_POLL_MS / 1000),
  };
  // The comparison: one tick of all three assets recomputing every exposed account, no index.
  const fullTick = scaled(
    await measure("full recompute", async () => {
      for (const asset of MOVING) prices[asset] = (prices[asset] as number) * 0.999;
      second++;
      clock = T0 + second * 1000;
      await runTick(priceEvents(second, MOVING), { store, now, volatility: VOLATILITY }, { mode: "full" });
    }),
    1 / TICKS_PER_SECOND,
  );

  // --- the day -----------------------------------------------------------------------------------
  const calmTicks = CALM_SECONDS * TICKS_PER_SECOND;
  const crashTicks = CRASH_SECONDS * TICKS_PER_SECOND;
  // What a phase spent beyond its ticks' own cost (never below zero: a sample's noise).
  const bookPart = (phase: Usage, ticks: number) => {
    const rest = added(phase, scaled(fixedTick, -ticks));
    return {
      readUnits: Math.max(0, rest.readUnits),
      writeUnits: Math.max(0, rest.writeUnits),
      requests: Math.max(0, rest.requests),
      cpuSeconds: Math.max(0, rest.cpuSeconds),
      invocations: 0,
      waitSeconds: 0,
    };
  };
  const webhookUnits: Usage = {
    ...noUsage(),
    readUnits: webhooksAfter.readUnits - webhooksBefore.readUnits,
    writeUnits: webhooksAfter.writeUnits - webhooksBefore.writeUnits,
    requests: webhooksAfter.requests - webhooksBefore.requests,
  };
  /** A whole-book job: its reads grow with the book; its writes (summary, outbox) do not. */
  const wholeBook = (usage: Usage, invocations: number) => ({
    fixed: { ...noUsage(), writeUnits: usage.writeUnits, invocations },
    perBook: { ...usage, writeUnits: 0, invocations: 0 },
  });
  const components: ComponentModel[] = [
    {
      name: "ticks (calm)",
      basis: `${(23 * 3600 * TICKS_PER_SECOND).toLocaleString("en-US")} ticks; per tick ${fmt(fixedTick.writeUnits)} WRU + ${fmt(fixedTick.readUnits)} RRU fixed, re-evaluations grow with the book`,
      fixed: { ...fixedTick, invocations: 1 },
      perBook: scaled(bookPart(calm, calmTicks), 1 / calmTicks),
      runsPerDay: 23 * 3600 * TICKS_PER_SECOND,
    },
    {
      name: "ticks (crash hour)",
      basis: `${(3_600 * TICKS_PER_SECOND).toLocaleString("en-US")} ticks; re-evaluations and transitions grow with the book`,
      fixed: { ...fixedTick, invocations: 1 },
      perBook: scaled(bookPart(crash, crashTicks), 1 / crashTicks),
      runsPerDay: 3_600 * TICKS_PER_SECOND,
    },
    {
      name: "webhooks",
      basis: `${delivered.toLocaleString("en-US")} deliveries here; one per notification, grows with the book`,
      fixed: noUsage(),
      perBook: { ...webhookUnits, invocations: Math.ceil(delivered / 100) },
      runsPerDay: 1,
    },
    {
      name: "sweep (full)",
      basis: `every 15 minutes (${FULL_SWEEPS_PER_DAY}/day), 16 segments; reads the book`,
      ...wholeBook(sweep, 17),
      runsPerDay: FULL_SWEEPS_PER_DAY,
    },
    {
      name: "sweep (index)",
      basis: `the other minutes (${SWEEPS_PER_DAY - FULL_SWEEPS_PER_DAY}/day); a few index queries per asset`,
      fixed: { ...indexSweep, invocations: 2 },
      perBook: noUsage(),
      runsPerDay: SWEEPS_PER_DAY - FULL_SWEEPS_PER_DAY,
    },
    {
      name: "expiry",
      basis: "with every sweep; due calls only",
      fixed: expire,
      perBook: noUsage(),
      runsPerDay: SWEEPS_PER_DAY,
    },
    {
      name: "exposure",
      basis: "hourly, 16 segments; reads the book",
      ...wholeBook(exposure, 17),
      runsPerDay: 24,
    },
    {
      name: "stress",
      basis: "every 6 h, 16 segments × passes; reads the book once per cascade pass",
      ...wholeBook(stress, 17 * 8),
      runsPerDay: 4,
    },
    {
      name: "redeliver",
      basis: "every minute, polling due retries each second for 55 s (billed while it sleeps)",
      fixed: redeliver,
      perBook: noUsage(),
      runsPerDay: 1_440,
    },
    {
      name: "api",
      basis: "each account written once a day (PUT or import)",
      fixed: noUsage(),
      perBook: { ...api, invocations: ACCOUNTS / 1_000 },
      runsPerDay: 1,
    },
    {
      name: "funding",
      basis:
        "a print every 8 h per venue and asset (27 a day); each re-evaluates the accounts exposed to its asset",
      fixed: noUsage(),
      perBook: { ...funding, invocations: 1 },
      runsPerDay: 27,
    },
  ];
  const days = components.map((c) => dailyCost(c, ACCOUNTS, TARGET));
  const bytesPerAccount = await tableBytesPerAccount(client, ACCOUNTS);
  const storage = storagePerDay(bytesPerAccount, TARGET);
  const total = days.reduce((sum, d) => sum + d.dynamodbUsd + d.lambdaUsd, 0) + storage;
  const fullDay = dailyCost(
    {
      name: "full recompute",
      basis: "",
      fixed: { ...fixedTick, invocations: 1 },
      perBook: bookPart(fullTick, 1),
      runsPerDay: 24 * 3600 * TICKS_PER_SECOND,
    },
    ACCOUNTS,
    TARGET,
  );
  const everyMinute = dailyCost(
    { name: "", basis: "", ...wholeBook(sweep, 17), runsPerDay: SWEEPS_PER_DAY },
    ACCOUNTS,
    TARGET,
  );
  const sweepDays = days.filter((d) => d.name.startsWith("sweep"));
  const sweepNow = sweepDays.reduce((sum, d) => sum + d.dynamodbUsd + d.lambdaUsd, 0);
  const tickDays = days.filter((d) => d.name.startsWith("ticks"));
  const fullTotal =
    total -
    tickDays.reduce((sum, d) => sum + d.dynamodbUsd + d.lambdaUsd, 0) +
    fullDay.dynamodbUsd +
    fullDay.lambdaUsd;

  console.log(
    `bench:cost — measured at ${ACCOUNTS.toLocaleString("en-US")} accounts on DynamoDB Local, priced at ${TARGET.toLocaleString("en-US")} (AWS ${AWS_PRICES.region}, prices of ${AWS_PRICES.asOf})`,
  );
  console.log(`sampled: ${CALM_SECONDS} s of calm ticks for 23 h; the crash hour whole; each job once`);
  console.log(
    `re-evaluations here: ${quietEvaluations} in the quiet ticks, ${crashEvaluations - quietEvaluations} in the calm sample and the crash hour; ${notifications} notifications; ${delivered} webhooks delivered`,
  );
  console.log(
    `measured here: a quiet tick ${fmt(fixedTick.writeUnits)} WRU + ${fmt(fixedTick.readUnits)} RRU; calm ${fmt(calm.writeUnits)} WRU + ${fmt(calm.readUnits)} RRU; crash hour ${fmt(crash.writeUnits)} WRU + ${fmt(crash.readUnits)} RRU; webhooks ${fmt(webhookUnits.writeUnits)} WRU + ${fmt(webhookUnits.readUnits)} RRU for ${delivered} deliveries; full sweep ${fmt(sweep.readUnits)} RRU; index sweep ${fmt(indexSweep.readUnits)} RRU; exposure ${fmt(exposure.readUnits)} RRU; stress ${fmt(stress.readUnits)} RRU; full-recompute tick ${fmt(fullTick.readUnits)} RRU + ${fmt(fullTick.writeUnits)} WRU per asset`,
  );
  console.log("");
  const row = (cells: string[]) =>
    console.log(cells.map((c, i) => (i === 0 ? c.padEnd(20) : c.padStart(14))).join(" "));
  row(["component (per day)", "RRU", "WRU", "Lambda GB-s", "DynamoDB $", "Lambda $"]);
  for (const d of days)
    row([
      d.name,
      fmt(d.perDay.readUnits),
      fmt(d.perDay.writeUnits),
      fmt(lambdaSeconds(d)),
      d.dynamodbUsd.toFixed(2),
      d.lambdaUsd.toFixed(2),
    ]);
  row(["storage", "", "", "", storage.toFixed(2), ""]);
  console.log("");
  for (const d of days) console.log(`  ${d.name}: ${d.basis}`);
  console.log(`  storage: ${fmt(bytesPerAccount)} bytes per account in the table (items and indexes)`);
  console.log("");
  console.log(
    `scales with accounts: the book-sized reads of the sweep, exposure and stress, crash re-evaluations, webhooks and account writes; with ticks: each tick's price write and index queries (${fmt(fixedTick.writeUnits + fixedTick.readUnits)} units a tick)`,
  );
  console.log(
    `lever: index sweeps between full sweeps every 15 minutes: the sweep costs $${sweepNow.toFixed(2)}/day; a full sweep every minute would cost $${(everyMinute.dynamodbUsd + everyMinute.lambdaUsd).toFixed(2)}/day (the bill $${(total - sweepNow + everyMinute.dynamodbUsd + everyMinute.lambdaUsd).toFixed(2)}/day)`,
  );
  console.log(
    `cost: $${total.toFixed(2)}/day at ${TARGET.toLocaleString("en-US")} accounts (full recompute per tick: $${fullTotal.toFixed(2)}/day)`,
  );
} finally {
  await receiver.close();
  await local.stop();
  await rm(reportDir, { recursive: true, force: true });
}

/** Runs a component under its meter label and returns its units and this process's CPU time. */
async function measure(name: string, work: () => Promise<unknown>): Promise<Usage> {
  const before = meter.totals()[name] ?? { readUnits: 0, writeUnits: 0, requests: 0 };
  const cpu = process.cpuUsage();
  await meter.run(name, work);
  const spent = process.cpuUsage(cpu);
  const after = meter.totals()[name] ?? before;
  return {
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
    requests: after.requests - before.requests,
    cpuSeconds: (spent.user + spent.system) / 1e6,
    invocations: 0,
    waitSeconds: 0,
  };
}

function lambdaSeconds(day: DailyCost): number {
  return day.lambdaUsd === 0
    ? 0
    : (day.lambdaUsd - day.perDay.invocations * AWS_PRICES.lambda.request) / AWS_PRICES.lambda.gbSecond;
}

async function tableBytesPerAccount(client: ReturnType<typeof connect>["client"], accounts: number) {
  const { DescribeTableCommand } = await import("@aws-sdk/client-dynamodb");
  const table = await client.send(new DescribeTableCommand({ TableName: TABLE }));
  const indexes = (table.Table?.GlobalSecondaryIndexes ?? []).reduce(
    (s, i) => s + (i.IndexSizeBytes ?? 0),
    0,
  );
  return ((table.Table?.TableSizeBytes ?? 0) + indexes) / accounts;
}

function fmt(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(2);
}
