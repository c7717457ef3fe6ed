import { Decimal } from "@backing/core";
import {
  cachedStore,
  doubleAtLeast,
  doubleAtMost,
  type EngineStore,
  exposureAssets,
  replaceAccounts,
} from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** Decimal strings with more digits than a double holds: 1–9 integer digits and up to 24 decimals. */
const longDecimal = fc
  .tuple(fc.bigInt({ min: 0n, max: 999_999_999n }), fc.bigInt({ min: 0n, max: 10n ** 24n - 1n }))
  .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(24, "0")}`);

/** A positive double's bit pattern: adjacent doubles differ by one. */
const bits = (double: number) => new BigInt64Array(new Float64Array([double]).buffer)[0] as bigint;

describe("band edges as doubles", () => {
  it("round a low edge up and a high edge down, to the nearest double on that side", () => {
    fc.assert(
      fc.property(longDecimal, (edge) => {
        const up = doubleAtLeast(edge);
        const down = doubleAtMost(edge);
        expect(new Decimal(up.toPrecision(100)).gte(edge)).toBe(true);
        expect(new Decimal(down.toPrecision(100)).lte(edge)).toBe(true);
        // Nearest on each side: the two are the same double or adjacent ones.
        expect(bits(up) - bits(down)).toBeLessThanOrEqual(1n);
        expect(bits(up) - bits(down)).toBeGreaterThanOrEqual(0n);
      }),
      { numRuns: 2_000 },
    );
    // 0.1 is not a double: the nearest one (0.1000000000000000055…) is above it.
    expect(doubleAtLeast("0.1")).toBe(0.1);
    expect(doubleAtMost("0.1")).toBeLessThan(0.1);
    expect(doubleAtMost("Infinity")).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("the in-memory trigger index of a process that owns the book", () => {
  // The store underneath is never asked: bands live in memory when the process owns the book.
  const store = cachedStore({} as EngineStore, { ownsBook: true });

  it("finds an account as soon as the price leaves its band by the smallest step, never earlier", async () => {
    await store.putBands([
      { accountId: "a", asset: "BTC", low: "100.00000000000000000001", high: "199.99999999999999999999" },
      { accountId: "b", asset: "BTC", low: "0", high: "Infinity" },
      { accountId: "c", asset: "BTC", low: null, high: null },
    ]);
    const triggered = (low: string, high = low) => store.triggeredAccountIds("BTC", low, high);
    // Inside every band but "no band": only c.
    expect(await triggered("150")).toEqual(["c"]);
    // 100 is below a's low edge by 1e-20 and 200 above its high edge by as much, differences no
    // double holds: a is still read.
    expect(await triggered("100")).toEqual(["a", "c"]);
    expect(await triggered("200")).toEqual(["a", "c"]);
    // An unbounded band holds at any positive price.
    expect(await triggered("0.00000001", "1e15")).toEqual(["a", "c"]);
  });
});

describe("a closed position in the trigger index", () => {
  it("leaves the index: a flat account is no longer read by ticks on the asset it closed", async () => {
    const store = cachedStore(memoryStore(), { ownsBook: true });
    const open = {
      id: "a",
      venue: "venue-a",
      marginMode: "standard" as const,
      collateral: { USDC: "1000" },
      positions: [
        { instrument: "BTC-PERP", type: "perp" as const, underlying: "BTC", size: "1", entryPrice: "20000" },
      ],
    };
    await store.putAccounts([open]);
    await store.putBands([{ accountId: "a", asset: "BTC", low: "19000", high: "21000" }]);
    // The venue closed it: size 0, the realised PnL in accrued funding. Nothing of it moves with BTC.
    const closed = {
      ...open,
      positions: [{ ...(open.positions[0] as (typeof open.positions)[0]), size: "0", funding: "-900" }],
    };
    expect(exposureAssets(closed)).toEqual(["USDC"]);
    await replaceAccounts(store, [closed], new Map([["a", open]]));
    expect(await store.triggeredAccountIds("BTC", "15000", "15000")).toEqual([]);
    expect(await store.exposedAccountIds("BTC")).toEqual([]);
    expect(await store.exposedAccountIds("USDC")).toEqual(["a"]);
  });
});
