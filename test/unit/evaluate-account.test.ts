import type { Account } from "@backing/contracts";
import { type EvaluationContext, evaluateAccount, type StoredRiskState } from "@backing/engine";
import { describe, expect, it } from "vitest";
import { accountDocument, perp, single } from "../helpers/portfolio.ts";

// Long 1 BTC perp at mark = entry = 10,000: notional 10,000 in tier 1 → IM = 10,000/125 = 80,
// MM = 0.4% = 40, warning below IM × 1.2 = 96. Equity = the USDC balance (DESIGN §3.3, as in
// status.test.ts). The default call deadline is 24 h.
const NOW = Date.parse("2026-01-15T00:00:00Z");
const prices = { BTC: { index: "10000" }, USDC: { index: "1" } };

function accountWith(usdc: string) {
  const account = accountDocument({ collateral: { USDC: usdc }, positions: [perp("BTC", "1", "10000")] });
  const { book, market, params } = single(account, { prices });
  const context: EvaluationContext = {
    market,
    params,
    snapshot: {
      id: "snap_test",
      prices: {
        BTC: { index: "10000", mark: "10000", timestampMs: NOW },
        USDC: { index: "1", mark: "1", timestampMs: NOW },
      },
    },
    snapshotOrder: 2 * NOW,
    staleAssets: new Set(),
    nowMs: NOW,
    volatility: {},
  };
  return { book, document: account as unknown as Account, context };
}

const storedState = (overrides: Partial<StoredRiskState>): StoredRiskState => ({
  accountId: "a-1",
  venue: "venue-a",
  status: "HEALTHY",
  episode: null,
  equity: "100",
  initialMargin: "80",
  maintenanceMargin: "40",
  callAmount: "0",
  paramsVersion: "default",
  snapshotId: "snap_before",
  evaluatedAtMs: NOW - 60_000,
  snapshotOrder: 2 * NOW - 120_000,
  version: 3,
  ...overrides,
});

describe("evaluating one account (the pure step of a recompute)", () => {
  it("a never-written account at equity 50 < IM 80 is called for 30, from HEALTHY, with a 24 h deadline", () => {
    const { book, document, context } = accountWith("50");
    const decision = evaluateAccount(book, document, null, context);
    if (decision.kind !== "evaluated" || !decision.write)
      throw new Error(`expected a write: ${decision.kind}`);
    const { state, previous, notifications } = decision.write;
    expect(previous).toBeNull();
    expect(state).toMatchObject({
      status: "MARGIN_CALL",
      equity: "50",
      initialMargin: "80",
      maintenanceMargin: "40",
      callAmount: "30",
      version: 1,
      snapshotId: "snap_test",
      evaluatedAtMs: NOW,
    });
    expect(state.episode?.deadlineMs).toBe(NOW + 24 * 3_600_000);
    expect(state.evidence).toMatchObject({ account: document, previousStatus: "HEALTHY" });
    expect(notifications.map((n) => [n.type, n.payload.data])).toEqual([
      [
        "margin.call",
        expect.objectContaining({ previousStatus: "HEALTHY", callAmount: "30", status: "MARGIN_CALL" }),
      ],
    ]);
  });

  it("writes nothing for an account whose status stands, and still hands back the evaluation for its bands", () => {
    const { book, document, context } = accountWith("100");
    const decision = evaluateAccount(book, document, storedState({}), context);
    expect(decision).toMatchObject({ kind: "evaluated", write: null, evaluation: { status: "HEALTHY" } });
  });

  it("the next version of a stored state: a HEALTHY account (version 3) falling to equity 90 < 96 warns", () => {
    const { book, document, context } = accountWith("90");
    const decision = evaluateAccount(book, document, storedState({}), context);
    if (decision.kind !== "evaluated" || !decision.write) throw new Error("expected a write");
    expect(decision.write.state).toMatchObject({ status: "WARNING", version: 4 });
    expect(decision.write.notifications.map((n) => n.type)).toEqual(["margin.warning"]);
  });

  it("leaves a state evaluated at newer prices alone", () => {
    const { book, document, context } = accountWith("50");
    const newer = storedState({ snapshotOrder: context.snapshotOrder + 1 });
    expect(evaluateAccount(book, document, newer, context)).toEqual({ kind: "superseded" });
  });

  it("holds the state when the status would change on a stale price, and not when it stands", () => {
    const stale = (usdc: string) => {
      const { book, document, context } = accountWith(usdc);
      return evaluateAccount(book, document, storedState({}), { ...context, staleAssets: new Set(["BTC"]) });
    };
    expect(stale("50")).toEqual({ kind: "held-stale" });
    expect(stale("100")).toMatchObject({ kind: "evaluated", write: null });
  });
});
