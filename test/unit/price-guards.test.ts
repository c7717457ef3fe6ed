import { Decimal, guardPrice, type PriceUpdate } from "@backing/core";
import { describe, expect, it } from "vitest";

const guards = {
  maxPriceAgeSeconds: 120,
  maxJump: new Decimal("0.25"),
  confirmAfterSeconds: 30,
  maxFutureSkewSeconds: 5,
};
const T0 = Date.parse("2022-11-08T12:00:00Z");
const update = (
  eventId: string,
  mark: string,
  secondsAfter: number,
  sequence: number | null = null,
): PriceUpdate => ({
  eventId,
  asset: "BTC",
  index: new Decimal(mark),
  mark: new Decimal(mark),
  timestampMs: T0 + secondsAfter * 1000,
  sequence,
  source: "test",
});

describe("price guards", () => {
  const latest = update("e0", "20000", 0);

  it("accepts the first price and a normal move", () => {
    expect(guardPrice(latest, null, null, T0, guards)).toEqual({ kind: "accept", reason: "first" });
    expect(guardPrice(update("e1", "24999", 10), latest, null, T0 + 10_000, guards).kind).toBe("accept");
  });

  it("rejects a price older than maxPriceAgeSeconds", () => {
    expect(guardPrice(update("e1", "20100", 10), latest, null, T0 + 10_000 + 120_001, guards)).toEqual({
      kind: "reject",
      reason: "stale",
    });
    expect(guardPrice(update("e1", "20100", 10), latest, null, T0 + 10_000 + 120_000, guards).kind).toBe(
      "accept",
    );
  });

  it("refuses a price stamped more than maxFutureSkewSeconds (5 s) ahead of the clock", () => {
    expect(guardPrice(update("e1", "20100", 5), latest, null, T0, guards).kind).toBe("accept");
    expect(guardPrice(update("e1", "20100", 5.001), latest, null, T0, guards)).toEqual({
      kind: "reject",
      reason: "future",
    });
    // Issue 17's price stamped 2099-01-01: even as an asset's first price it is refused.
    const farFuture = { ...update("x", "19100", 0), timestampMs: Date.parse("2099-01-01T00:00:00Z") };
    expect(guardPrice(farFuture, null, null, T0, guards)).toEqual({ kind: "reject", reason: "future" });
  });

  it("rejects out-of-order updates by sequence, else by timestamp", () => {
    expect(guardPrice(update("e1", "20100", 0), latest, null, T0, guards)).toEqual({
      kind: "reject",
      reason: "out-of-order",
    });
    const withSequence = update("e0", "20000", 10, 7);
    expect(guardPrice(update("e1", "20100", 20, 7), withSequence, null, T0 + 20_000, guards).reason).toBe(
      "out-of-order",
    );
    expect(guardPrice(update("e1", "20100", 5, 8), withSequence, null, T0 + 20_000, guards).kind).toBe(
      "accept",
    );
  });

  it("lets one bogus sequence number hold its asset back at most maxPriceAgeSeconds (120 s), not for good", () => {
    const bogus = update("e0", "20000", 0, Number.MAX_SAFE_INTEGER);
    // The feed's real numbering is far below: out of order while the bogus price is fresh ...
    expect(guardPrice(update("e1", "20100", 120, 8), bogus, null, T0 + 120_000, guards).reason).toBe(
      "out-of-order",
    );
    // ... and newer once it is stale by the update's own timestamp (120.001 s later).
    expect(guardPrice(update("e2", "20100", 120.001, 9), bogus, null, T0 + 120_001, guards).kind).toBe(
      "accept",
    );
  });

  it("holds a move larger than maxJump (25%) and accepts it once a later update confirms it", () => {
    const crash = update("e1", "14999", 10); // −25.005%
    expect(guardPrice(crash, latest, null, T0 + 10_000, guards)).toEqual({ kind: "hold", reason: "jump" });
    expect(guardPrice(crash, latest, crash, T0 + 10_000, guards).kind).toBe("hold"); // the same event again
    expect(guardPrice(update("e2", "14900", 20), latest, crash, T0 + 20_000, guards)).toEqual({
      kind: "accept",
      reason: "confirmed-jump",
    });
  });

  it("accepts an update back near the last accepted price as normal (the held jump was an outlier)", () => {
    const spike = update("e1", "30000", 10);
    expect(guardPrice(update("e2", "20050", 20), latest, spike, T0 + 20_000, guards)).toEqual({
      kind: "accept",
      reason: "normal",
    });
  });
});
