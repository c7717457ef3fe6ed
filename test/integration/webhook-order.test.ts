import {
  endpointGate,
  type NotificationRecord,
  type NotifyEntry,
  notifyBatch,
  redeliverDue,
  registerEndpoint,
  type WebhookDeps,
  type WebhookEndpoint,
} from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { httpTransport } from "@backing/webhooks";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { marginNotification } from "../helpers/notifications.ts";
import { startReceiver } from "../helpers/receiver.ts";

const T0 = Date.parse("2026-11-24T00:00:00Z");
const TYPES = ["margin.warning", "margin.call", "margin.cured"] as const;
const PARALLELIZATION_FACTOR = 4;

/** An account's notifications in the order its transitions made them, each linked to the earlier ones as the engine links them. */
function accountNotifications(
  account: string,
  types: readonly (typeof TYPES)[number][],
): NotificationRecord[] {
  let notified: { id: string; type: string; createdAtMs: number; sequence: number }[] = [];
  return types.map((type, i) => {
    const createdAtMs = T0 + i;
    const record: NotificationRecord = {
      ...marginNotification({ id: `ntf_${account}_${i}`, venue: "venue-a", account, createdAtMs, type }),
      preceding: notified,
      sequence: i,
    };
    notified = [
      { id: record.id, type, createdAtMs, sequence: i },
      ...notified.filter((n) => n.type !== type),
    ];
    return record;
  });
}

/** A few turns of the event loop, as a seeded number of them: the workers' store calls interleave differently every run. */
function interleaving(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return {
    next,
    pause: async () => {
      for (let turns = Math.floor(next() * 4); turns > 0; turns--) await new Promise((r) => setImmediate(r));
    },
  };
}

describe(`per-account order with parallelizationFactor ${PARALLELIZATION_FACTOR}`, () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("delivers each account's notifications to each endpoint in order, whatever worker holds them and whichever attempt fails", async () => {
    const scenario = fc.record({
      accounts: fc.array(fc.array(fc.constantFrom(...TYPES), { minLength: 2, maxLength: 5 }), {
        minLength: 1,
        maxLength: 3,
      }),
      // What the venue's two endpoints take.
      subscriptions: fc.tuple(
        fc.subarray([...TYPES], { minLength: 1 }),
        fc.subarray([...TYPES], { minLength: 1 }),
      ),
      // Which sub-stream each record lands in (Lambda hashes the item's key), and each batch's size.
      placement: fc.array(fc.nat(PARALLELIZATION_FACTOR - 1), { minLength: 15, maxLength: 15 }),
      batchSize: fc.integer({ min: 1, max: 3 }),
      // Endpoints found slow before the batch: their deliveries are written for the redeliver job.
      slow: fc.tuple(fc.boolean(), fc.boolean()),
      // Which first attempts the receiver answers 503.
      failures: fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });
    await fc.assert(
      fc.asyncProperty(
        scenario,
        async ({ accounts, subscriptions, placement, batchSize, slow, failures, seed }) => {
          const clock = {
            at: T0,
            get now() {
              return this.at;
            },
            set now(ms: number) {
              // The receiver's standardwebhooks checks the timestamp against Date.now.
              this.at = ms;
              vi.setSystemTime(ms);
            },
          };
          clock.now = T0;
          const chance = interleaving(seed);
          const endpoints = new Map<string, WebhookEndpoint>();
          const attempts = new Map<string, number>();
          const delivered: { path: string; id: string }[] = [];
          const receiver = await startReceiver({
            secrets: (path) =>
              [...endpoints.values()]
                .filter((e) => e.url.endsWith(path))
                .flatMap((e) => e.secrets.map((s) => s.secret)),
            behaviour: (received) => {
              const key = `${received.path} ${received.id}`;
              if (!attempts.has(key)) {
                attempts.set(key, attempts.size);
                if (failures[(attempts.size - 1) % failures.length]) return 503;
              }
              delivered.push({ path: received.path, id: received.id });
              return 200;
            },
          });
          try {
            const store = memoryStore();
            // Every store call yields a seeded number of turns: the four workers interleave.
            const shuffled = new Proxy(store, {
              get(target, name, receiverObject) {
                const value = Reflect.get(target, name, receiverObject);
                if (typeof value !== "function") return value;
                return async (...args: unknown[]) => {
                  await chance.pause();
                  const result = await value.apply(target, args);
                  await chance.pause();
                  return result;
                };
              },
            });
            const deps: WebhookDeps = {
              store: shuffled,
              now: () => clock.now,
              delivery: {
                guard: { requireHttps: true, allowLoopback: true },
                resolver: async () => {
                  throw new Error("tests use IP literals only");
                },
                transport: httpTransport,
                timeoutMs: 2_000,
              },
            };
            for (const [i, types] of subscriptions.entries()) {
              const endpoint = await registerEndpoint(deps, {
                venue: "venue-a",
                url: receiver.url(`/e${i}`),
                types,
              });
              endpoints.set(endpoint.id, endpoint);
              if (slow[i]) endpointGate(deps).markSlow(endpoint.id, clock.now);
            }
            const notifications = accounts.flatMap((types, a) => accountNotifications(`acct-${a}`, types));
            // The stream in write order: each account's in order, accounts interleaved by time.
            notifications.sort((x, y) => x.createdAtMs - y.createdAtMs || x.id.localeCompare(y.id));
            await store.putNotifications(notifications);
            const subStreams = Array.from({ length: PARALLELIZATION_FACTOR }, () => [] as NotifyEntry[]);
            for (const [i, notification] of notifications.entries())
              subStreams[placement[i % placement.length] as number]?.push({
                sequenceNumber: String(i + 1),
                kind: "notification",
                notification,
              });
            // Each sub-stream is a worker taking its records in order, a batch at a time; the four run at once.
            await Promise.all(
              subStreams.map(async (records) => {
                for (let i = 0; i < records.length; i += batchSize) {
                  const batch = records.slice(i, i + batchSize);
                  const { failed } = await notifyBatch(deps, batch);
                  expect(failed).toEqual([]);
                }
              }),
            );
            // The redeliver job, minute after minute, until everything is delivered.
            for (let minute = 1; minute <= 60; minute++) {
              clock.now = T0 + minute * 60_000;
              await redeliverDue({ ...deps, store });
            }
            for (const [i, types] of subscriptions.entries())
              for (const [a] of accounts.entries()) {
                const expected = notifications
                  .filter((n) => n.accountId === `acct-${a}` && (types as string[]).includes(n.type))
                  .map((n) => n.id);
                const got = delivered.filter((d) => d.path === `/e${i}` && d.id.startsWith(`ntf_acct-${a}_`));
                const firstDeliveries = got.map((d) => d.id).filter((id, k, all) => all.indexOf(id) === k);
                expect(firstDeliveries).toEqual(expected);
              }
            expect(receiver.received.every((r) => r.verified)).toBe(true);
          } finally {
            await receiver.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
