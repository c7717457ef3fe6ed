/**
 * Webhook benchmark (npm run bench:webhooks), on DynamoDB Local and receivers on loopback that
 * verify every signature with standardwebhooks:
 *  1. throughput: 10,000 notifications already in the outbox, drained through the table's stream
 *     (local poller → notify code path → signed POST → delivery recorded), deliveries per second;
 *  2. latency from each outbox write to the receiver's 2xx, p50 and p99: at a steady 200/s, and
 *     for a burst of 2,000 written at once;
 *  3. the same with two venues, half of the load each: venue B's p50/p99 while venue A's endpoint
 *     answers, then while it hangs (never answers), and B's deliveries per second meanwhile.
 * Every account gets a notification in turn, and each one after the first follows the account's
 * previous one (`preceding`), as the engine links them, so the order check is paid for.
 * Baseline in the same run: the same signed POSTs to the same receiver straight from memory (no
 * store). Before measuring, 2,000 notifications go through the pipeline unmeasured: DynamoDB
 * Local's JIT more than doubles its write rate over its first few thousand items.
 * Targets (DESIGN §8, issue 23): ≥ 1,000 deliveries/s, outbox-to-delivery p99 < 500 ms, and the
 * healthy venue's p99 unchanged while the other hangs.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, createTable, dynamoStore, streamEntries } from "@backing/dynamo";
import { type NotificationRecord, notifyBatch, registerEndpoint, type WebhookDeps } from "@backing/engine";
import { memoryCheckpoints, StreamPoller, startDynamoLocal, startWebhookReceiver } from "@backing/local";
import { DEFAULT_TIMEOUT_MS, deliveryEnvironment, httpTransport, webhookHeaders } from "@backing/webhooks";
import { marginNotification } from "../test/helpers/notifications.ts";

const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 10_000);
const WARM_UP = 2_000;
const PACED = 2_000;
const BURST = 2_000;
const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 200);
const ACCOUNTS = 5_000;
/** A phase that delivers nothing new for this long has stalled: the bench fails instead of hanging. */
const STALL_MS = 120_000;

const local = await startDynamoLocal();
// Venue A's endpoint when it hangs: it takes the request and never answers.
const held = new Set<ServerResponse>();
const hanging = createServer((_, response) => held.add(response));
await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
try {
  const { client, documents } = connect({ endpoint: local.endpoint });
  const tableName = `bench-webhooks-${Date.now()}`;
  await createTable(client, tableName);
  const store = dynamoStore(documents, tableName);
  const secrets: string[] = [];
  const receiver = await startWebhookReceiver({ secrets: () => secrets });
  const deps: WebhookDeps = { store, now: Date.now, delivery: deliveryEnvironment({ allowLoopback: true }) };
  const register = async (venue: string, url: string) => {
    const endpoint = await registerEndpoint(deps, { venue, url, types: ["margin.call"] });
    secrets.push(...endpoint.secrets.map((s) => s.secret));
    return endpoint;
  };
  await register("venue-b", receiver.url("/b"));

  /** Each account's notifications in turn; the nth of an account follows its (n−1)th. */
  let made = 0;
  const lastOf = new Map<string, { id: string; type: string; createdAtMs: number; sequence: number }>();
  const notification = (venue: string): NotificationRecord => {
    const i = made++;
    const createdAtMs = Date.now();
    const account = `${venue}-acct-${i % ACCOUNTS}`;
    const previous = lastOf.get(account);
    const sequence = (previous?.sequence ?? 0) + 16;
    const id = `ntf_bench_${i}`;
    lastOf.set(account, { id, type: "margin.call", createdAtMs, sequence });
    return {
      ...marginNotification({ id, venue, account, createdAtMs }),
      sequence,
      preceding: previous ? [previous] : [],
    };
  };
  const write = async (records: NotificationRecord[]) => {
    const written = new Map<string, number>();
    for (let i = 0; i < records.length; i += 25 * 8)
      await Promise.all(
        Array.from({ length: 8 }, async (_, k) => {
          const page = records.slice(i + k * 25, i + (k + 1) * 25);
          if (page.length === 0) return;
          await store.putNotifications(page);
          const at = Date.now();
          for (const n of page) written.set(n.id, at);
        }),
      );
    return written;
  };

  // Baseline: the same signed POSTs from memory, 64 in flight.
  const baselineCount = Math.min(COUNT, 5_000);
  const baselineRecords = Array.from({ length: baselineCount }, () => notification("venue-b"));
  let next = 0;
  const baselineStart = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < baselineCount) {
        const n = baselineRecords[next++] as NotificationRecord;
        const body = JSON.stringify(n.payload);
        await httpTransport({
          url: new URL(receiver.url("/b")),
          address: "127.0.0.1",
          family: 4,
          headers: webhookHeaders(secrets, n.id, Math.floor(Date.now() / 1000), body),
          body,
          timeoutMs: DEFAULT_TIMEOUT_MS,
        });
      }
    }),
  );
  const baselinePerSecond = baselineCount / ((performance.now() - baselineStart) / 1000);
  lastOf.clear();

  // One poller per phase (a stopped one is done), all reading on from the same checkpoints.
  const checkpoints = memoryCheckpoints();
  const newPoller = () =>
    new StreamPoller({
      endpoint: local.endpoint,
      tableName,
      checkpoints,
      handler: async (event) => {
        const { failed } = await notifyBatch(deps, streamEntries(event.Records));
        return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
      },
      batchSize: 1000,
      idleMs: 10,
    });
  let poller = newPoller();
  const deliveredTo = (path: string) => receiver.received.filter((r) => r.path === path && r.verified).length;
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + STALL_MS;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`bench stalled: ${receiver.received.length} received`);
      if ((await poller.pollOnce()) === 0) await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Drains `records` (already in the outbox) through the stream; deliveries per second to `path`. */
  const drain = async (records: NotificationRecord[], path = "/b") => {
    const before = deliveredTo(path);
    const expected = records.filter((n) => n.venue === "venue-b").length;
    await write(records);
    const start = performance.now();
    await until(() => deliveredTo(path) - before >= expected);
    const perSecond = expected / ((performance.now() - start) / 1000);
    // The stream's tail (the delivery records just written) is read before the next phase starts.
    for (let quiet = 0; quiet < 2; ) quiet = (await poller.pollOnce()) === 0 ? quiet + 1 : 0;
    return perSecond;
  };
  const percentiles = (written: Map<string, number>, path: string) => {
    const latencies = receiver.received
      .filter((r) => r.path === path && written.has(r.id))
      .map((r) => r.atMs - (written.get(r.id) as number))
      .sort((a, b) => a - b);
    const at = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? 0;
    return { p50: at(0.5), p99: at(0.99) };
  };
  /** Waits until venue B's receiver has every one of these, then p50/p99 of B's from outbox write to 2xx. */
  const bLatency = async (written: Map<string, number>, records: NotificationRecord[]) => {
    const wanted = new Set(records.filter((n) => n.venue === "venue-b").map((n) => n.id));
    const deadline = Date.now() + STALL_MS;
    while (receiver.received.filter((r) => r.path === "/b" && wanted.has(r.id)).length < wanted.size) {
      if (Date.now() > deadline) throw new Error(`bench stalled: ${receiver.received.length} received`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await poller.stop();
    poller = newPoller();
    return percentiles(written, "/b");
  };
  /** Writes `count` notifications at `rate` a second, the venues in turn, while the poller runs. */
  const paced = async (count: number, rate: number, venues: string[]) => {
    const written = new Map<string, number>();
    const records: NotificationRecord[] = [];
    const start = Date.now();
    poller.start();
    for (let i = 0; i < count; i++) {
      const wait = start + (i * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const n = notification(venues[i % venues.length] as string);
      records.push(n);
      await store.putNotifications([n]);
      written.set(n.id, Date.now());
    }
    return bLatency(written, records);
  };
  /** Writes `count` notifications at once, the venues in turn, while the poller runs. */
  const burst = async (count: number, venues: string[]) => {
    const records = Array.from({ length: count }, (_, i) =>
      notification(venues[i % venues.length] as string),
    );
    poller.start();
    return bLatency(await write(records), records);
  };

  await drain(Array.from({ length: WARM_UP }, () => notification("venue-b")));
  const perSecond = await drain(Array.from({ length: COUNT }, () => notification("venue-b")));
  const steady = await paced(PACED, RATE_PER_SECOND, ["venue-b"]);
  const burstOne = await burst(BURST, ["venue-b"]);

  // Venue A joins: half of every load is A's. First its endpoint answers, then it hangs.
  const venueA = await register("venue-a", receiver.url("/a"));
  const mixed = (count: number) =>
    Array.from({ length: count }, (_, i) => notification(i % 2 === 0 ? "venue-a" : "venue-b"));
  const steadyPair = await paced(PACED * 2, RATE_PER_SECOND * 2, ["venue-a", "venue-b"]);
  const burstPair = await burst(BURST * 2, ["venue-a", "venue-b"]);
  await store.putEndpoint({
    ...venueA,
    url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/a`,
  });
  const perSecondHanging = await drain(mixed(COUNT));
  const steadyHanging = await paced(PACED * 2, RATE_PER_SECOND * 2, ["venue-a", "venue-b"]);
  const burstHanging = await burst(BURST * 2, ["venue-a", "venue-b"]);

  const verified = receiver.received.every((r) => r.verified);
  await receiver.close();
  const ms = (p: { p50: number; p99: number }) => `p50 ${p.p50} ms, p99 ${p.p99} ms`;
  console.log(`${COUNT.toLocaleString("en-US")} notifications, DynamoDB Local ${local.endpoint}`);
  console.log(
    `signed POSTs from memory (baseline)        ${Math.round(baselinePerSecond).toLocaleString("en-US")}/s`,
  );
  console.log(`one venue, healthy:`);
  console.log(
    `  outbox → stream → delivered and recorded ${Math.round(perSecond).toLocaleString("en-US")}/s`,
  );
  console.log(
    `  outbox write → 2xx at ${RATE_PER_SECOND}/s (${PACED.toLocaleString("en-US")})   ${ms(steady)}`,
  );
  console.log(`  outbox write → 2xx, burst of ${BURST.toLocaleString("en-US")}    ${ms(burstOne)}`);
  console.log(
    `two venues, half of each load venue A's; venue B's figures with A's endpoint answering → hanging:`,
  );
  console.log(
    `  venue B delivered and recorded          ${Math.round(perSecondHanging).toLocaleString("en-US")}/s while A hangs`,
  );
  console.log(
    `  outbox write → 2xx at ${RATE_PER_SECOND}/s each     ${ms(steadyPair)} → ${ms(steadyHanging)}`,
  );
  console.log(
    `  outbox write → 2xx, burst of ${BURST.toLocaleString("en-US")} each ${ms(burstPair)} → ${ms(burstHanging)}`,
  );
  console.log(`every signature verified: ${verified}`);
  console.log(
    `\ndelivered / baseline: ${(perSecond / baselinePerSecond).toFixed(3)}; vs the 1,000/s target: ${(perSecond / 1000).toFixed(2)}×; steady p99 vs 500 ms: ${(500 / Math.max(steady.p99, 1)).toFixed(2)}×; venue B's steady p99 with A hanging / answering: ${(steadyHanging.p99 / Math.max(steadyPair.p99, 1)).toFixed(2)}`,
  );
} finally {
  for (const response of held) response.socket?.destroy();
  hanging.closeAllConnections();
  hanging.close();
  await local.stop();
}
