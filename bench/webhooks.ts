/**
 * Webhook benchmark (npm run bench:webhooks), on DynamoDB Local and a receiver on loopback that
 * verifies every signature with standardwebhooks:
 *  1. throughput: 10,000 notifications already in the outbox, drained through the table's stream
 *     (local poller → notify code path → signed POST → delivery recorded), deliveries per second;
 *  2. latency: notifications written one by one at a steady rate while the poller runs, from each
 *     outbox write to the receiver's 2xx, p50 and p99;
 *  baseline in the same run: the same signed POSTs to the same receiver straight from memory (no
 *  store), so the ratio is what the outbox, lanes and delivery records cost.
 * Targets (DESIGN §8): ≥ 1,000 deliveries/s, outbox-to-delivery p99 < 500 ms on the local runtime.
 */
import { connect, createTable, dynamoStore, streamEntries } from "@backing/dynamo";
import { type NotificationRecord, notifyBatch, registerEndpoint, type WebhookDeps } from "@backing/engine";
import { StreamPoller, startDynamoLocal, startWebhookReceiver } from "@backing/local";
import { DEFAULT_TIMEOUT_MS, deliveryEnvironment, httpTransport, webhookHeaders } from "@backing/webhooks";

const COUNT = Number(process.env.BENCH_NOTIFICATIONS ?? 10_000);
const PACED = Math.min(2_000, COUNT);
const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 200);

const local = await startDynamoLocal();
try {
  const { client, documents } = connect({ endpoint: local.endpoint });
  const tableName = `bench-webhooks-${Date.now()}`;
  await createTable(client, tableName);
  const store = dynamoStore(documents, tableName);
  const secrets: string[] = [];
  const receiver = await startWebhookReceiver({ secrets: () => secrets });
  const deps: WebhookDeps = {
    store,
    now: Date.now,
    delivery: deliveryEnvironment({ allowLoopback: true }),
  };
  const endpoint = await registerEndpoint(deps, {
    venue: "venue-a",
    url: receiver.url("/hooks"),
    types: ["margin.call"],
  });
  secrets.push(...endpoint.secrets.map((s) => s.secret));

  const notification = (i: number, createdAtMs: number): NotificationRecord => ({
    id: `ntf_bench_${i}`,
    type: "margin.call",
    venue: "venue-a",
    accountId: `acct-${i % 5_000}`,
    episodeId: `ep-${i}`,
    createdAtMs,
    payload: {
      type: "margin.call",
      timestamp: new Date(createdAtMs).toISOString(),
      data: {
        venue: "venue-a",
        account: `acct-${i % 5_000}`,
        status: "MARGIN_CALL",
        previousStatus: "HEALTHY",
        equity: "9000.12345678",
        initialMargin: "10000",
        maintenanceMargin: "5000",
        callAmount: "999.87654322",
        deadline: new Date(createdAtMs + 86_400_000).toISOString(),
        episodeId: `ep-${i}`,
        paramsVersion: "2026-01-15",
        priceSnapshot: { id: "snap_bench", prices: { BTC: { index: "90000", mark: "90010" } } },
      },
    },
  });

  // Baseline: the same signed POSTs from memory, 64 in flight.
  const baselineCount = Math.min(COUNT, 5_000);
  let next = 0;
  const baselineStart = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < baselineCount) {
        const n = notification(next++, Date.now());
        const body = JSON.stringify(n.payload);
        const url = new URL(receiver.url("/hooks"));
        await httpTransport({
          url,
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
  receiver.received.length = 0;

  // 1. Throughput: the outbox filled first, then drained through the stream.
  for (let i = 0; i < COUNT; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, COUNT - i) }, (_, k) =>
        store.putNotifications([notification(i + k, Date.now())]),
      ),
    );
  }
  const handler = async (event: Parameters<ConstructorParameters<typeof StreamPoller>[0]["handler"]>[0]) => {
    const { failed } = await notifyBatch(deps, streamEntries(event.Records));
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
  const poller = new StreamPoller({
    endpoint: local.endpoint,
    tableName,
    handler,
    batchSize: 1000,
    idleMs: 10,
  });
  const drainStart = performance.now();
  while (receiver.received.length < COUNT) {
    if ((await poller.pollOnce()) === 0) await new Promise((r) => setTimeout(r, 10));
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const perSecond = COUNT / drainSeconds;

  // 2. Latency: paced outbox writes with the poller running.
  receiver.received.length = 0;
  poller.start();
  const written = new Map<string, number>();
  const pacedStart = Date.now();
  for (let i = 0; i < PACED; i++) {
    const due = pacedStart + (i * 1000) / RATE_PER_SECOND;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const n = notification(COUNT + i, Date.now());
    await store.putNotifications([n]);
    written.set(n.id, Date.now());
  }
  while (receiver.received.length < PACED) await new Promise((r) => setTimeout(r, 20));
  await poller.stop();
  const latencies = receiver.received
    .map((r) => r.atMs - (written.get(r.id) ?? r.atMs))
    .sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? 0;
  await receiver.close();

  const verified = receiver.received.every((r) => r.verified);
  console.log(
    `${COUNT.toLocaleString("en-US")} notifications, one endpoint, DynamoDB Local ${local.endpoint}`,
  );
  console.log(
    `signed POSTs from memory (baseline)       ${Math.round(baselinePerSecond).toLocaleString("en-US")}/s`,
  );
  console.log(
    `outbox → stream → delivered and recorded  ${Math.round(perSecond).toLocaleString("en-US")}/s  (${drainSeconds.toFixed(1)} s)`,
  );
  console.log(
    `outbox write → 2xx at ${RATE_PER_SECOND}/s (${PACED.toLocaleString("en-US")})   p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, every signature verified: ${verified}`,
  );
  console.log(
    `\ndelivered / baseline: ${(perSecond / baselinePerSecond).toFixed(3)}; vs the 1,000/s target: ${(perSecond / 1000).toFixed(2)}×; p99 vs 500 ms: ${(500 / Math.max(pct(0.99), 1)).toFixed(2)}×`,
  );
} finally {
  await local.stop();
}
