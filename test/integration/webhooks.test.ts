import { MarginNotificationPayload } from "@backing/contracts";
import type { DynamoEngineStore } from "@backing/dynamo";
import {
  dispatchNotification,
  EndpointInputError,
  endpointGate,
  type NotificationRecord,
  notifyBatch,
  redeliverDue,
  redeliverWindow,
  registerEndpoint,
  replayParked,
  rotateSecret,
  type WebhookDeps,
  type WebhookEndpoint,
} from "@backing/engine";
import { httpTransport, httpTransportWith, RETRY_DELAYS_MS, type Transport } from "@backing/webhooks";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";
import { marginNotification } from "../helpers/notifications.ts";
import { type Behaviour, type ReceivedWebhook, startReceiver } from "../helpers/receiver.ts";

const T0 = Date.parse("2026-11-24T00:00:00Z");
const drops: (() => Promise<unknown>)[] = [];
const receivers: { close: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
  vi.useRealTimers();
});
// The receiver's standardwebhooks checks the timestamp against Date.now: let Date follow the test clock.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0);
});

let sequence = 0;
function marginCall(venue: string, account: string, createdAtMs = T0): NotificationRecord {
  sequence++;
  return marginNotification({
    id: `ntf_test_${sequence}_${account}`,
    venue,
    account,
    createdAtMs,
    episodeId: `ep-${sequence}`,
  });
}

async function setUp(behaviour?: Behaviour, transport: Transport = httpTransport) {
  const { store, drop } = await freshStore();
  drops.push(drop);
  const clock = { now: T0 };
  const endpoints = new Map<string, WebhookEndpoint>();
  const receiver = await startReceiver({
    secrets: (path) =>
      [...endpoints.values()]
        .filter((e) => e.url.endsWith(path))
        .flatMap((e) => e.secrets.map((s) => s.secret)),
    ...(behaviour ? { behaviour } : {}),
    clock: () => clock.now,
  });
  receivers.push(receiver);
  const deps: WebhookDeps = {
    store,
    now: () => clock.now,
    delivery: {
      guard: { requireHttps: true, allowLoopback: true },
      resolver: async () => {
        throw new Error("tests use IP literals only");
      },
      transport,
      timeoutMs: 2_000,
    },
  };
  const register = async (venue: string, path: string, types = ["margin.call", "margin.cured"]) => {
    const endpoint = await registerEndpoint(deps, { venue, url: receiver.url(path), types });
    endpoints.set(endpoint.id, endpoint);
    return endpoint;
  };
  const publish = async (notification: NotificationRecord) => {
    await store.putNotifications([notification]);
    return dispatchNotification(deps, notification);
  };
  const at = (ms: number) => {
    clock.now = ms;
    vi.setSystemTime(ms);
  };
  return { store: store as DynamoEngineStore, deps, receiver, register, publish, at, endpoints };
}

describe("endpoint registration", () => {
  it("refuses, with loopback not allowed, endpoints on loopback, private, link-local or unique-local addresses, or names resolving there", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    const deps = {
      store,
      now: () => T0,
      delivery: {
        guard: { requireHttps: true, allowLoopback: false },
        // Injected: no name is ever looked up on the network.
        resolver: async (host: string) =>
          host === "internal.example.com"
            ? [{ address: "10.1.2.3", family: 4 as const }]
            : [{ address: "93.184.215.14", family: 4 as const }],
        transport: async () => {
          throw new Error("test failure: registration must not connect");
        },
        timeoutMs: 1_000,
      },
    };
    for (const url of [
      "https://127.0.0.1/hook",
      "https://10.0.0.1/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/hook",
      "https://[fd00::1]/hook",
      "https://internal.example.com/hook",
      "http://hooks.example.com/hook",
    ]) {
      await expect(
        registerEndpoint(deps, { venue: "venue-a", url, types: ["margin.call"] }),
        url,
      ).rejects.toThrow(EndpointInputError);
    }
    await expect(
      registerEndpoint(deps, {
        venue: "venue-a",
        url: "https://hooks.example.com/h",
        types: ["margin.nope"],
      }),
    ).rejects.toThrow(/unknown: margin.nope/);
    const ok = await registerEndpoint(deps, {
      venue: "venue-a",
      url: "https://hooks.example.com/h",
      types: ["margin.call"],
    });
    expect(ok.secrets[0]?.secret).toMatch(/^whsec_/);
    expect(await store.listEndpoints("venue-a")).toEqual([ok]);
  });
});

describe("webhook delivery (DynamoDB Local, a receiver on loopback verifying with standardwebhooks)", () => {
  it("delivers the documented payload, signed; each endpoint of the venue subscribed to the type gets it", async () => {
    const { receiver, register, publish } = await setUp();
    await register("venue-a", "/a");
    await register("venue-a", "/a-reports", ["report.exposure.ready"]);
    await register("venue-b", "/b");
    const notification = marginCall("venue-a", "acct-1");
    expect(await publish(notification)).toEqual({ deliveries: 1, attempted: 1 });
    expect(receiver.received).toHaveLength(1);
    const [delivered] = receiver.received;
    expect(delivered).toMatchObject({ id: notification.id, verified: true, path: "/a" });
    const body = JSON.parse(delivered?.body ?? "{}");
    expect(MarginNotificationPayload.parse(body)).toEqual(notification.payload);
    expect(Object.keys(body)).toEqual(["type", "timestamp", "data"]);
  });

  it("retries a failing endpoint on the schedule with the same webhook-id, parks it after the 8th attempt, and replays it", async () => {
    let healthy = false;
    const { store, deps, receiver, register, publish, at } = await setUp(() => (healthy ? 200 : 500));
    await register("venue-a", "/flaky");
    const notification = marginCall("venue-a", "acct-1");
    await publish(notification);
    let time = T0;
    for (const delay of RETRY_DELAYS_MS.slice(1)) {
      at(time + delay - 1);
      expect((await redeliverDue(deps)).attempted).toBe(0);
      time += delay;
      at(time);
      expect((await redeliverDue(deps)).attempted).toBe(1);
    }
    expect(receiver.received.map((r) => r.id)).toEqual(Array(8).fill(notification.id));
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    // Attempt times follow the schedule: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    const offsets = receiver.received.map((r) => r.atMs - T0);
    expect(offsets).toEqual(
      RETRY_DELAYS_MS.map((_, i) => RETRY_DELAYS_MS.slice(0, i + 1).reduce((a, b) => a + b, 0)),
    );
    at(time + 100 * 3_600_000);
    expect((await redeliverDue(deps)).attempted).toBe(0);
    const [parked] = await store.failedDeliveries();
    expect(parked).toMatchObject({ notificationId: notification.id, status: "failed" });
    expect(parked?.attempts).toHaveLength(8);

    healthy = true;
    expect(await replayParked(deps, notification.id)).toBe(1);
    expect(receiver.received).toHaveLength(9);
    expect(receiver.received[8]).toMatchObject({ id: notification.id, verified: true });
    expect(await store.failedDeliveries()).toEqual([]);
    expect((await store.getDeliveries(notification.id))[0]?.status).toBe("delivered");
  });

  it("a once-a-minute Redeliver run sends the schedule's 5 s retry at 5 s, not at its next minute", async () => {
    const { deps, receiver, register, publish, at } = await setUp((_, n) => (n === 1 ? 500 : 200));
    await register("venue-a", "/slow-start");
    await publish(marginCall("venue-a", "acct-1")); // the first attempt at T0 fails
    // The cron's run starts 1 ms later and polls each second on the injected clock.
    at(T0 + 1);
    const polls: number[] = [];
    const result = await redeliverWindow(deps, {
      sleep: async (ms) => {
        polls.push(deps.now() - T0);
        at(deps.now() + ms);
      },
    });
    expect(result.attempted).toBe(1);
    expect(receiver.received.map((r) => r.atMs - T0)).toEqual([0, 5_001]);
    // A poll a second for 55 s: the run ends before the next minute's begins.
    expect(polls).toHaveLength(55);
    expect(polls.at(-1)).toBe(54_001);
  });

  it("counts a timeout, a closed connection and a hung receiver as failed attempts and retries them", async () => {
    // The request timeout is fired by the test once the receiver holds the hung request: no
    // real time passes, and the attempt cannot have ended any other way.
    let fireTimeout: (() => void) | undefined;
    const transport = httpTransportWith((_ms, onTimeout) => {
      fireTimeout = onTimeout;
      return () => {
        fireTimeout = undefined;
      };
    });
    const { store, deps, receiver, register, publish, at } = await setUp((_, n) => {
      if (n !== 1) return n === 2 ? "close" : 200;
      setImmediate(() => fireTimeout?.());
      return "hang";
    }, transport);
    await register("venue-a", "/slow");
    const notification = marginCall("venue-a", "acct-1");
    await publish(notification);
    let [delivery] = await store.getDeliveries(notification.id);
    expect(delivery?.attempts[0]?.error).toMatch(/no answer within 2 s/);
    at(T0 + 5_000);
    await redeliverDue(deps);
    [delivery] = await store.getDeliveries(notification.id);
    expect(delivery?.attempts[1]?.result).toBe("failed");
    expect(delivery?.attempts[1]?.error).toBeDefined();
    at(T0 + 5_000 + 300_000);
    await redeliverDue(deps);
    [delivery] = await store.getDeliveries(notification.id);
    expect(delivery?.status).toBe("delivered");
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set([notification.id]));
  });

  it("re-sends with the same id when the notifier dies between the 2xx and recording it (at least once)", async () => {
    const { store, deps, receiver, register, at } = await setUp();
    await register("venue-a", "/a");
    const notification = marginCall("venue-a", "acct-1");
    await store.putNotifications([notification]);
    // The process "crashes" on the write that would record the successful attempt.
    const crashing: WebhookDeps = {
      ...deps,
      store: Object.assign(Object.create(store), {
        updateDelivery: async (record: { status: string }, version: number) => {
          if (record.status === "delivered") throw new Error("killed");
          return store.updateDelivery(record as never, version);
        },
      }),
    };
    await expect(dispatchNotification(crashing, notification)).rejects.toThrow("killed");
    expect(receiver.received).toHaveLength(1);
    at(T0 + 60_000);
    expect((await redeliverDue(deps)).attempted).toBe(1);
    expect(receiver.received.map((r) => r.id)).toEqual([notification.id, notification.id]);
    expect((await store.getDeliveries(notification.id))[0]?.status).toBe("delivered");
  });

  it("disables an endpoint that answers 410 and honours a 429's Retry-After", async () => {
    const { store, deps, receiver, register, publish, at } = await setUp((r) =>
      r.path === "/gone"
        ? 410
        : r.path === "/busy"
          ? { status: 429, headers: { "retry-after": "120" } }
          : 200,
    );
    const gone = await register("venue-a", "/gone");
    await register("venue-b", "/busy");
    await publish(marginCall("venue-a", "acct-1"));
    expect((await store.listEndpoints("venue-a")).find((e) => e.id === gone.id)).toMatchObject({
      enabled: false,
    });
    const second = marginCall("venue-a", "acct-2");
    expect(await publish(second)).toEqual({ deliveries: 0, attempted: 0 });

    const busy = marginCall("venue-b", "acct-3");
    await publish(busy);
    const [delivery] = await store.getDeliveries(busy.id);
    expect(delivery?.nextAttemptAtMs).toBe(T0 + 120_000);
    at(T0 + 60_000);
    expect((await redeliverDue(deps)).attempted).toBe(0);
    at(T0 + 120_000);
    expect((await redeliverDue(deps)).attempted).toBe(1);
    expect(receiver.received.filter((r) => r.path === "/busy")).toHaveLength(2);
  });

  it("keeps one account's notifications in order while the earlier one is retrying", async () => {
    const failFirst = new Set<string>();
    const { deps, receiver, register, publish, at } = await setUp((r, n) => {
      if (r.body.includes('"account":"acct-1"') && !failFirst.has(r.id) && n <= 2) {
        if (n === 2) failFirst.add(r.id);
        return 503;
      }
      return 200;
    });
    await register("venue-a", "/a");
    const first = marginCall("venue-a", "acct-1", T0);
    const second = { ...marginCall("venue-a", "acct-1", T0 + 1), type: "margin.cured" as const };
    const other = marginCall("venue-a", "acct-9", T0 + 2);
    await publish(first);
    await publish(second);
    await publish(other);
    // acct-1's second notification waits behind the first; another account is not held up.
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, other.id]);
    at(T0 + 5_000);
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, other.id, first.id, second.id]);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  });

  it("signs with the old and the new secret during a rotation's overlap, then only the new", async () => {
    const { deps, receiver, register, publish, at, endpoints } = await setUp();
    const endpoint = await register("venue-a", "/a");
    const old = endpoint.secrets[0]?.secret as string;
    const rotated = await rotateSecret(deps, "venue-a", endpoint.id, 3_600_000);
    endpoints.set(rotated.id, rotated);
    const current = rotated.secrets[0]?.secret as string;
    expect(current).not.toBe(old);
    const verifies = (secret: string, r: ReceivedWebhook) => {
      try {
        new Webhook(secret).verify(r.body, {
          "webhook-id": r.id,
          "webhook-timestamp": r.timestamp,
          "webhook-signature": r.signature,
        });
        return true;
      } catch {
        return false;
      }
    };
    await publish(marginCall("venue-a", "acct-1"));
    const during = receiver.received[0] as ReceivedWebhook;
    expect([verifies(old, during), verifies(current, during)]).toEqual([true, true]);
    at(T0 + 2 * 3_600_000);
    await publish(marginCall("venue-a", "acct-2", T0 + 2 * 3_600_000));
    const after = receiver.received[1] as ReceivedWebhook;
    expect([verifies(old, after), verifies(current, after)]).toEqual([false, true]);
  });
});

describe("a stream batch of notifications (notifyBatch)", () => {
  const entries = (notifications: NotificationRecord[]) =>
    notifications.map((notification, i) => ({
      sequenceNumber: String(i + 1),
      kind: "notification" as const,
      notification,
    }));

  /** The store, counting the calls of the lane and batch methods the fast path is meant to spare or use. */
  const counting = (store: DynamoEngineStore) => {
    const calls = { joinLane: 0, busyDeliveries: 0, recordDeliveries: 0, openLanes: 0 };
    const counted = Object.create(store) as DynamoEngineStore;
    for (const name of Object.keys(calls) as (keyof typeof calls)[])
      Object.assign(counted, {
        [name]: (...args: unknown[]) => {
          calls[name]++;
          return (store[name] as (...a: unknown[]) => unknown)(...args);
        },
      });
    return { calls, counted };
  };

  it("sends to every free lane first and then writes each delivery once, in one batch", async () => {
    const { store, deps, receiver, register } = await setUp();
    await register("venue-a", "/a1");
    await register("venue-a", "/a2");
    await register("venue-b", "/b");
    const { calls, counted } = counting(store);
    const batch = Array.from({ length: 60 }, (_, i) =>
      marginCall(i % 2 === 0 ? "venue-a" : "venue-b", `acct-${i}`),
    );
    await store.putNotifications(batch);
    const result = await notifyBatch({ ...deps, store: counted }, entries(batch));
    expect(result).toMatchObject({ failed: [], dispatched: 60 });
    // One read for the whole batch, one batch of records, and no lane at all.
    expect(calls).toEqual({ joinLane: 0, busyDeliveries: 1, recordDeliveries: 1, openLanes: 0 });
    // venue-a's 30 to two endpoints, venue-b's 30 to one: 90 requests, each verified, none twice.
    expect(receiver.received).toHaveLength(90);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    expect(new Set(receiver.received.map((r) => `${r.path} ${r.id}`)).size).toBe(90);
    for (const notification of batch)
      for (const delivery of await store.getDeliveries(notification.id))
        expect(delivery).toMatchObject({ status: "delivered", attempts: [{ result: "delivered" }] });
    // Each account's next notification takes the fast path too.
    const next = batch.map((n) => marginCall(n.venue, n.accountId as string));
    await store.putNotifications(next);
    await notifyBatch({ ...deps, store: counted }, entries(next));
    expect(calls).toEqual({ joinLane: 0, busyDeliveries: 2, recordDeliveries: 2, openLanes: 0 });
    expect(receiver.received).toHaveLength(180);
  });

  it("sends an account's notifications of one batch in order, one round each, while they are delivered", async () => {
    const { store, deps, receiver, register } = await setUp();
    await register("venue-a", "/a");
    const { calls, counted } = counting(store);
    const batch = [0, 1, 2].flatMap(() => [marginCall("venue-a", "acct-1"), marginCall("venue-a", "acct-2")]);
    await store.putNotifications(batch);
    await notifyBatch({ ...deps, store: counted }, entries(batch));
    expect(calls).toEqual({ joinLane: 0, busyDeliveries: 3, recordDeliveries: 3, openLanes: 0 });
    for (const account of ["acct-1", "acct-2"])
      expect(receiver.received.filter((r) => r.body.includes(`"${account}"`)).map((r) => r.id)).toEqual(
        batch.filter((n) => n.accountId === account).map((n) => n.id),
      );
  });

  it("opens a lane only when a first attempt fails: the account's later notifications of the batch wait behind it", async () => {
    let healthy = false;
    const { store, deps, receiver, register, at } = await setUp(() => (healthy ? 200 : 503));
    await register("venue-a", "/a");
    const { calls, counted } = counting(store);
    const [first, second] = [marginCall("venue-a", "acct-1"), marginCall("venue-a", "acct-1")] as const;
    await store.putNotifications([first, second]);
    await notifyBatch({ ...deps, store: counted }, entries([first, second]));
    expect(calls.openLanes).toBe(1);
    const laneJoins = calls.joinLane; // the second joined the open lane, one by one
    expect((await store.getDeliveries(first.id))[0]).toMatchObject({
      status: "pending",
      attempts: [{ result: "failed", status: 503 }],
    });
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "queued", attempts: [] });
    expect(receiver.received.map((r) => r.id)).toEqual([first.id]);
    healthy = true;
    at(T0 + 5_000); // the schedule's second attempt
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id, second.id]);
    // Both finished: the lane is free again, and the next notification takes the fast path.
    const third = marginCall("venue-a", "acct-1");
    await store.putNotifications([third]);
    await notifyBatch({ ...deps, store: counted }, entries([third]));
    expect(calls).toMatchObject({ openLanes: 1, joinLane: laneJoins });
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id, second.id, third.id]);
  });

  it("queues a failed delivery behind a lane another worker opened after the batch read it free", async () => {
    let healthy = false;
    const { store, deps, receiver, register, at } = await setUp(() => (healthy ? 200 : 503));
    await register("venue-a", "/a");
    const [first, second] = [marginCall("venue-a", "acct-1"), marginCall("venue-a", "acct-1")] as const;
    await store.putNotifications([first, second]);
    await notifyBatch(deps, entries([first]));
    // A concurrent batch that read the lane before the first one's failure opened it.
    const raced = Object.assign(Object.create(store) as DynamoEngineStore, {
      busyDeliveries: () => Promise.resolve(new Set<string>()),
    });
    await notifyBatch({ ...deps, store: raced }, entries([second]));
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({
      status: "queued",
      attempts: [{ result: "failed", status: 503 }],
    });
    healthy = true;
    at(T0 + 5_000);
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, second.id, first.id, second.id]);
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("loses nothing when the process dies after sending and before writing: the replayed record is sent again with the same id", async () => {
    const { store, deps, receiver, register } = await setUp();
    await register("venue-a", "/a");
    const call = marginCall("venue-a", "acct-1");
    await store.putNotifications([call]);
    const dying = Object.assign(Object.create(store) as DynamoEngineStore, {
      recordDeliveries: () => Promise.reject(new Error("process killed")),
      joinLane: () => Promise.reject(new Error("process killed")),
    });
    const crashed = await notifyBatch({ ...deps, store: dying }, entries([call]));
    expect(crashed.failed).toEqual(["1"]);
    expect(await store.getDeliveries(call.id)).toEqual([]);
    // The stream hands the record over again.
    await notifyBatch(deps, entries([call]));
    expect(receiver.received.map((r) => r.id)).toEqual([call.id, call.id]);
    expect((await store.getDeliveries(call.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("recovers a lane whose head's worker died after joining it and before writing its delivery, its stream record lost", async () => {
    const { store, deps, receiver, register, at } = await setUp();
    await register("venue-a", "/a");
    const [first, second] = [marginCall("venue-a", "acct-1"), marginCall("venue-a", "acct-1")] as const;
    await store.putNotifications([first, second]);
    // The first one-by-one dispatch joins the lane (its head, leased until T0 + 2 s timeout + 5 s)
    // and dies before its delivery is written; the stream then discards the record.
    const dying = Object.assign(Object.create(store) as DynamoEngineStore, {
      ensureDeliveries: () => Promise.reject(new Error("process killed")),
    });
    await expect(dispatchNotification({ ...deps, store: dying }, first)).rejects.toThrow("process killed");
    // The account's next notification waits behind it.
    await notifyBatch(deps, entries([second]));
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "queued" });
    expect(receiver.received).toEqual([]);
    at(T0 + 6_999); // within the lease: the head's worker may still be writing it
    await redeliverDue(deps);
    expect(receiver.received).toEqual([]);
    at(T0 + 7_000);
    await redeliverDue(deps);
    // Written from the outbox and sent with its own id; then the lane moves on, in order.
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, second.id]);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    for (const n of [first, second])
      expect((await store.getDeliveries(n.id))[0]).toMatchObject({ status: "delivered" });
    expect(await store.expiredLanes(T0 + 1_000_000, 10)).toEqual([]);
  });

  it("recovers a lane whose finished head's worker died before leaving it", async () => {
    let healthy = false;
    const { store, deps, receiver, register, at } = await setUp(() => (healthy ? 200 : 503));
    await register("venue-a", "/a");
    const [first, second] = [marginCall("venue-a", "acct-1"), marginCall("venue-a", "acct-1")] as const;
    await store.putNotifications([first, second]);
    await notifyBatch(deps, entries([first, second]));
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "queued" });
    healthy = true;
    at(T0 + 5_000); // the first's retry is delivered and recorded; the worker dies before it leaves the lane
    const dying = Object.assign(Object.create(store) as DynamoEngineStore, {
      leaveLane: () => Promise.reject(new Error("process killed")),
    });
    await expect(redeliverDue({ ...deps, store: dying })).rejects.toThrow("process killed");
    expect((await store.getDeliveries(first.id))[0]).toMatchObject({ status: "delivered" });
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id]);
    // The lane was leased until the retry's time plus the lease: then the head leaves and the next is sent.
    at(T0 + 5_000 + 6_999);
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id]);
    at(T0 + 5_000 + 7_000);
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id, second.id]);
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("renews the lease of a head on the retry schedule instead of touching it", async () => {
    const { store, deps, receiver, register, at } = await setUp(() => 503);
    await register("venue-a", "/a");
    const first = marginCall("venue-a", "acct-1");
    await store.putNotifications([first]);
    await notifyBatch(deps, entries([first]));
    at(T0 + 5_000);
    await redeliverDue(deps); // second attempt fails: next at T0 + 5 s + 5 min
    expect(receiver.received).toHaveLength(2);
    at(T0 + 60_000); // the lane's lease (T0 + 12 s) ran out while the head waits for its retry
    expect(await redeliverDue(deps)).toEqual({ attempted: 0 });
    expect(await store.expiredLanes(T0 + 60_000, 10)).toEqual([]);
    expect(await store.expiredLanes(T0 + 5_000 + 300_000 + 7_000, 10)).toHaveLength(1);
    expect(receiver.received).toHaveLength(2);
  });

  it("holds a later notification whose earlier one is not dispatched yet (another worker's, with parallelizationFactor > 1) until that one is delivered", async () => {
    let failFirst = true;
    const { store, deps, receiver, register, at } = await setUp(() => {
      if (!failFirst) return 200;
      failFirst = false;
      return 503;
    });
    await register("venue-a", "/a");
    const first = { ...marginCall("venue-a", "acct-1"), sequence: 16 };
    const second = {
      ...marginCall("venue-a", "acct-1"),
      sequence: 32,
      preceding: [{ id: first.id, type: first.type, createdAtMs: first.createdAtMs, sequence: 16 }],
    };
    await store.putNotifications([first, second]);
    // The second's worker gets to it before any worker has the first: it puts the first in front.
    await notifyBatch(deps, entries([second]));
    expect(receiver.received).toEqual([]);
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "queued" });
    // The first's worker: it heads the lane; its first attempt fails, and the second still waits.
    await notifyBatch(deps, entries([first]));
    expect(receiver.received.map((r) => r.id)).toEqual([first.id]);
    at(T0 + 5_000);
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id, second.id]);
    for (const n of [first, second])
      expect((await store.getDeliveries(n.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("does not hold a notification for an earlier one the endpoint did not take (registered, or types changed, after it)", async () => {
    const { store, deps, receiver, register, at } = await setUp();
    const first = marginCall("venue-a", "acct-1");
    at(T0 + 1_000);
    await register("venue-a", "/a");
    const second = {
      ...marginCall("venue-a", "acct-1", T0 + 2_000),
      preceding: [{ id: first.id, type: first.type, createdAtMs: first.createdAtMs }],
    };
    await store.putNotifications([first, second]);
    await notifyBatch(deps, entries([second]));
    expect(receiver.received.map((r) => r.id)).toEqual([second.id]);
  });

  it("keeps a venue whose endpoint hangs from holding up another's: the batch goes on without it, and while it is slow its deliveries go to the redeliver job", async () => {
    const { store, deps, receiver, register } = await setUp((r) => (r.path === "/a" ? "hang" : 200));
    await register("venue-a", "/a");
    await register("venue-b", "/b");
    const fast = { ...deps, inlineBudgetMs: 100 };
    const batch = (from: number) =>
      Array.from({ length: 10 }, (_, i) =>
        marginCall(i % 2 === 0 ? "venue-a" : "venue-b", `acct-${from + i}`),
      );
    const onA = (list: NotificationRecord[]) => list.filter((n) => n.venue === "venue-a");
    const onB = (list: NotificationRecord[]) => list.filter((n) => n.venue === "venue-b");
    const received = (path: string) => receiver.received.filter((r) => r.path === path).map((r) => r.id);

    const first = batch(0);
    await store.putNotifications(first);
    expect(await notifyBatch(fast, entries(first))).toMatchObject({ failed: [], dispatched: 10 });
    // Back while venue A's five requests still hang: B's are delivered and recorded.
    expect(received("/b")).toEqual(onB(first).map((n) => n.id));
    for (const n of onB(first))
      expect((await store.getDeliveries(n.id))[0]).toMatchObject({ status: "delivered" });
    expect(received("/a").sort()).toEqual(
      onA(first)
        .map((n) => n.id)
        .sort(),
    );
    for (const n of onA(first))
      expect((await store.getDeliveries(n.id))[0]).toMatchObject({ status: "pending", attempts: [] });

    // Venue A is slow now: its next deliveries are not sent inline but left due to the redeliver job.
    const second = batch(10);
    await store.putNotifications(second);
    await notifyBatch(fast, entries(second));
    expect(received("/b")).toEqual([...onB(first), ...onB(second)].map((n) => n.id));
    expect(received("/a")).toHaveLength(5);
    for (const n of onA(second))
      expect((await store.getDeliveries(n.id))[0]).toMatchObject({
        status: "pending",
        attempts: [],
        nextAttemptAtMs: T0,
      });

    // The hanging attempts end at their timeout and are recorded then, on the retry schedule.
    await endpointGate(deps).idle();
    for (const n of onA(first))
      expect((await store.getDeliveries(n.id))[0]).toMatchObject({
        status: "pending",
        attempts: [{ result: "failed" }],
        nextAttemptAtMs: T0 + 5_000,
      });
  });

  it("loses nothing when the process dies before the attempt: nothing is sent or written, and the replayed record is sent once", async () => {
    const { store, deps, receiver, register } = await setUp();
    await register("venue-a", "/a");
    const call = marginCall("venue-a", "acct-1");
    await store.putNotifications([call]);
    const dying = Object.assign(Object.create(store) as DynamoEngineStore, {
      busyDeliveries: () => Promise.reject(new Error("process killed")),
      joinLane: () => Promise.reject(new Error("process killed")),
    });
    expect((await notifyBatch({ ...deps, store: dying }, entries([call]))).failed).toEqual(["1"]);
    expect(receiver.received).toEqual([]);
    expect(await store.getDeliveries(call.id)).toEqual([]);
    await notifyBatch(deps, entries([call]));
    expect(receiver.received.map((r) => r.id)).toEqual([call.id]);
    expect((await store.getDeliveries(call.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("loses nothing when the process dies while a failed first attempt's lane is written: the replay sends it again with the same id", async () => {
    let healthy = false;
    const { store, deps, receiver, register, at } = await setUp(() => (healthy ? 200 : 503));
    await register("venue-a", "/a");
    const [first, second] = [marginCall("venue-a", "acct-1"), marginCall("venue-a", "acct-1")] as const;
    await store.putNotifications([first, second]);
    const dying = Object.assign(Object.create(store) as DynamoEngineStore, {
      openLanes: () => Promise.reject(new Error("process killed")),
      joinLane: () => Promise.reject(new Error("process killed")),
    });
    const crashed = await notifyBatch({ ...deps, store: dying }, entries([first, second]));
    expect(crashed.failed).toEqual(["1", "2"]);
    expect(await store.getDeliveries(first.id)).toEqual([]);
    expect(await store.expiredLanes(T0 + 1_000_000, 10)).toEqual([]);
    // The stream hands both records over again: the first fails again and holds the second behind it.
    await notifyBatch(deps, entries([first, second]));
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "queued" });
    healthy = true;
    at(T0 + 5_000);
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id, first.id, second.id]);
    for (const n of [first, second])
      expect((await store.getDeliveries(n.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("leaves a busy lane to the one-by-one path: a later notification waits behind one that is retrying", async () => {
    let healthy = false;
    const { store, deps, receiver, register, at } = await setUp(() => (healthy ? 200 : 503));
    await register("venue-a", "/a");
    const first = marginCall("venue-a", "acct-1");
    const second = marginCall("venue-a", "acct-1");
    await store.putNotifications([first]);
    await notifyBatch(deps, entries([first]));
    expect((await store.getDeliveries(first.id))[0]).toMatchObject({ status: "pending" });
    // The lane holds the first, retrying: the second must not overtake it.
    healthy = true;
    await store.putNotifications([second]);
    await notifyBatch(deps, entries([second]));
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "queued" });
    expect(receiver.received.map((r) => r.id)).toEqual([first.id]);
    at(T0 + 5_000); // the schedule's second attempt
    await redeliverDue(deps);
    expect(receiver.received.map((r) => r.id)).toEqual([first.id, first.id, second.id]);
    expect((await store.getDeliveries(second.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("sends nothing again when a batch is replayed, and the replay leaves the account's lane free", async () => {
    const { store, deps, receiver, register } = await setUp();
    await register("venue-a", "/a");
    const call = marginCall("venue-a", "acct-1");
    await store.putNotifications([call]);
    await notifyBatch(deps, entries([call]));
    // The stream hands the same record over again (Lambda retries a batch at least once).
    await notifyBatch(deps, entries([call]));
    expect(receiver.received.map((r) => r.id)).toEqual([call.id]);
    // The account's next notification is not stuck behind the replayed one.
    const next = marginCall("venue-a", "acct-1");
    await store.putNotifications([next]);
    await notifyBatch(deps, entries([next]));
    expect(receiver.received.map((r) => r.id)).toEqual([call.id, next.id]);
  });
});
