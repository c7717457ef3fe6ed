import {
  buildRiskParams,
  DEFAULT_RISK_PARAMS,
  Decimal,
  expire,
  nextStatus,
  type StatusState,
  transition,
} from "@backing/core";
import { describe, expect, it } from "vitest";

const params = buildRiskParams(DEFAULT_RISK_PARAMS);
// IM 100, MM 50; warning below 120; cure buffer 2%: out of LIQUIDATION at ≥ 51, out of
// MARGIN_CALL at ≥ 102, out of WARNING at ≥ 122.4.
const at = (equity: string) => ({
  equity: new Decimal(equity),
  initialMargin: new Decimal(100),
  maintenanceMargin: new Decimal(50),
  collateralValue: new Decimal(equity),
  unrealizedPnl: new Decimal(0),
  optionValue: new Decimal(0),
});

describe("status hysteresis", () => {
  it("worsens at the plain thresholds", () => {
    expect(nextStatus("HEALTHY", at("119.99"), params)).toBe("WARNING");
    expect(nextStatus("HEALTHY", at("99.99"), params)).toBe("MARGIN_CALL");
    expect(nextStatus("WARNING", at("49.99"), params)).toBe("LIQUIDATION");
  });

  it("improves only past the threshold plus the cure buffer", () => {
    expect(nextStatus("MARGIN_CALL", at("100"), params)).toBe("MARGIN_CALL");
    expect(nextStatus("MARGIN_CALL", at("101.99"), params)).toBe("MARGIN_CALL");
    expect(nextStatus("MARGIN_CALL", at("102"), params)).toBe("WARNING");
    expect(nextStatus("MARGIN_CALL", at("122.4"), params)).toBe("HEALTHY");
    expect(nextStatus("LIQUIDATION", at("50.99"), params)).toBe("LIQUIDATION");
    expect(nextStatus("LIQUIDATION", at("51"), params)).toBe("MARGIN_CALL");
    expect(nextStatus("WARNING", at("122.39"), params)).toBe("WARNING");
  });

  it("takes the plain status for an account seen for the first time", () => {
    expect(nextStatus(null, at("101"), params)).toBe("WARNING");
  });
});

describe("episodes and notifications", () => {
  const context = { accountId: "a-1", atMs: Date.parse("2022-11-08T12:00:00Z") };
  const healthy: StatusState = { status: "HEALTHY", episode: null };

  it("opens an episode with one margin.call and a 24 h deadline", () => {
    const t = transition(healthy, "MARGIN_CALL", context, params);
    expect(t.notifications).toEqual(["margin.call"]);
    expect(t.state.episode).toMatchObject({
      id: "a-1@2022-11-08T12:00:00.000Z",
      deadlineMs: context.atMs + 86_400_000,
    });
  });

  it("emits margin.liquidation once when the episode worsens, margin.cured when it closes", () => {
    const call = transition(healthy, "MARGIN_CALL", context, params).state;
    const liquidation = transition(call, "LIQUIDATION", context, params);
    expect(liquidation.notifications).toEqual(["margin.liquidation"]);
    const back = transition(liquidation.state, "MARGIN_CALL", context, params);
    expect(back.notifications).toEqual([]);
    expect(transition(back.state, "LIQUIDATION", context, params).notifications).toEqual([]);
    expect(transition(back.state, "WARNING", context, params).notifications).toEqual(["margin.cured"]);
  });

  it("entering LIQUIDATION directly emits only margin.liquidation", () => {
    const t = transition(healthy, "LIQUIDATION", context, params);
    expect(t.notifications).toEqual(["margin.liquidation"]);
    expect(transition(t.state, "LIQUIDATION", context, params).notifications).toEqual([]);
  });

  it("warns a healthy account entering WARNING, and stays silent when nothing changes", () => {
    expect(transition(healthy, "WARNING", context, params).notifications).toEqual(["margin.warning"]);
    expect(
      transition({ status: "WARNING", episode: null }, "WARNING", context, params).notifications,
    ).toEqual([]);
  });

  it("expires an uncured call once, after its deadline", () => {
    const call = transition(healthy, "MARGIN_CALL", context, params).state;
    expect(expire(call, context.atMs + 86_399_999).notifications).toEqual([]);
    const expired = expire(call, context.atMs + 86_400_000);
    expect(expired.notifications).toEqual(["margin.call.expired"]);
    expect(expire(expired.state, context.atMs + 90_000_000).notifications).toEqual([]);
  });
});
