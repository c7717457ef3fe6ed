import { PriceEvent } from "@backing/contracts";
import { SCENARIOS } from "@backing/local";
import { describe, expect, it } from "vitest";

const HOUR = 3_600_000;
const at = (id: string, timestamp: string) =>
  SCENARIOS[id]?.path().find((p) => p.timestamp === new Date(timestamp).toISOString());

describe("the shipped crash paths (DESIGN §3.12)", () => {
  it("are hourly, in order, with valid price events and provenance", () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([
      "aug-2024",
      "black-thursday-2020",
      "ftx-2022",
      "may-2021",
      "oct-2025",
    ]);
    for (const [id, shipped] of Object.entries(SCENARIOS)) {
      const points = shipped.path();
      expect(points.length, id).toBeGreaterThan(24);
      for (const [i, point] of points.entries()) {
        if (i > 0)
          expect(Date.parse(point.timestamp) - Date.parse(points[i - 1]?.timestamp ?? ""), id).toBe(HOUR);
        for (const [asset, index] of Object.entries(point.prices))
          PriceEvent.parse({
            eventId: `${id}:${asset}`,
            asset,
            index,
            timestamp: point.timestamp,
            source: id,
          });
      }
      for (const field of ["sources", "sampled", "interpolated"] as const)
        expect(shipped.provenance[field].length, `${id} ${field}`).toBeGreaterThan(20);
    }
  });

  it("pass through the sourced anchors of reference §1.1", () => {
    // E1: Coinbase BTC $7,969 → $3,858; ETH ≈$90 at the low; DAI ≈$1.10.
    expect(at("black-thursday-2020", "2020-03-12T00:00:00Z")?.prices.BTC).toBe("7969.00");
    expect(at("black-thursday-2020", "2020-03-13T02:00:00Z")?.prices).toMatchObject({
      BTC: "3858.00",
      ETH: "90.00",
      DAI: "1.1000",
    });
    // E2: BTC ≈$30k and ETH ≈$1,900 at the low of 19 May 2021.
    expect(at("may-2021", "2021-05-19T13:00:00Z")?.prices).toMatchObject({ BTC: "30000.00", ETH: "1900.00" });
    // E7: BTC $58,350 → $49,513 and ETH $2,695 → $2,118 in under 5 h.
    expect(at("aug-2024", "2024-08-04T22:00:00Z")?.prices).toMatchObject({ BTC: "58350.00", ETH: "2695.00" });
    expect(at("aug-2024", "2024-08-05T03:00:00Z")?.prices).toMatchObject({ BTC: "49513.00", ETH: "2118.00" });
    // E10: CoinDesk CADLI lows BTC $106,560, ETH $3,551, SOL $174 (−31% from 252).
    expect(at("oct-2025", "2025-10-10T21:00:00Z")?.prices).toMatchObject({
      BTC: "106560.00",
      ETH: "3551.00",
      SOL: "174.000",
    });
    expect(Number(at("oct-2025", "2025-10-10T20:00:00Z")?.prices.SOL) * 0.69).toBeCloseTo(174, 0);
  });
});
