/**
 * The pure heart of a recompute: one account's book, the state it had and the prices it is
 * evaluated at in, the state write (if any) and the evaluation its trigger bands come from out.
 * No I/O, no clock: everything arrives in the context.
 */
import type { Account } from "@backing/contracts";
import {
  type AccountBook,
  callAmount,
  type Market,
  marginTotals,
  nextStatus,
  type RiskParams,
  requirementString,
  type StatusState,
  transition,
  valueString,
} from "@backing/core";
import type { PriceSnapshot, StateWrite, StoredRiskState } from "../ports/index.ts";
import type { Evaluation } from "./band-diff.ts";
import { firstAsset } from "./load.ts";
import { linkedWrite, notificationFor } from "./notification.ts";
import { snapshotPrices } from "./snapshot.ts";

/** What every account of one recompute is evaluated against. */
export interface EvaluationContext {
  market: Market;
  params: RiskParams;
  snapshot: PriceSnapshot;
  /**
   * The sum of the snapshot's price times. Each asset's latest price only moves forward in time
   * (ingest refuses older events), so it grows with every accepted price: a state computed from a
   * later snapshot is never overwritten from an earlier one.
   */
  snapshotOrder: number;
  /** Assets priced too long ago: no call is made on them. */
  staleAssets: ReadonlySet<string>;
  nowMs: number;
  volatility: Record<string, string>;
}

export type Decision =
  /** A concurrent recompute already stored an evaluation at newer prices: its state and bands stand. */
  | { kind: "superseded" }
  /** The status would change on a stale price: the state is held, and the account keeps no band. */
  | { kind: "held-stale" }
  /** Evaluated: `write` is null when the stored state stands (same status, same episode). */
  | { kind: "evaluated"; evaluation: Evaluation; write: StateWrite | null };

const HEALTHY: StatusState = { status: "HEALTHY", episode: null };

/**
 * Evaluates one account with core and applies the status machine (hysteresis, episodes). An
 * account never written is HEALTHY with no episode: only a change from that is stored, and its
 * first notification says it came from HEALTHY (DESIGN §3.6).
 */
export function evaluateAccount(
  book: AccountBook,
  account: Account,
  previous: StoredRiskState | null,
  context: EvaluationContext,
): Decision {
  const { market, params, snapshot, snapshotOrder, nowMs } = context;
  if ((previous?.snapshotOrder ?? 0) > snapshotOrder) return { kind: "superseded" };
  const before: StatusState = previous ? { status: previous.status, episode: previous.episode } : HEALTHY;
  const totals = marginTotals(book, market, params);
  const status = nextStatus(before.status, totals, params);
  // Calls are never issued on stale prices.
  const stale = firstAsset(book, (asset) => context.staleAssets.has(asset)) !== undefined;
  if (stale && status !== before.status) return { kind: "held-stale" };
  const step = transition(before, status, { accountId: book.id, atMs: nowMs }, params);
  const evaluation: Evaluation = { totals, status };
  const changed =
    before.status !== status ||
    before.episode?.id !== step.state.episode?.id ||
    step.notifications.length > 0;
  if (!changed) return { kind: "evaluated", evaluation, write: null };
  const state: StoredRiskState = {
    accountId: book.id,
    venue: book.venue,
    status,
    episode: step.state.episode,
    equity: valueString(totals.equity),
    initialMargin: requirementString(totals.initialMargin),
    maintenanceMargin: requirementString(totals.maintenanceMargin),
    callAmount: requirementString(callAmount(totals.equity, totals.initialMargin)),
    paramsVersion: params.version,
    snapshotId: snapshot.id,
    evaluatedAtMs: nowMs,
    snapshotOrder,
    version: (previous?.version ?? 0) + 1,
    evidence: {
      asOf: new Date(nowMs).toISOString(),
      account,
      prices: snapshotPrices(snapshot),
      ...(snapshot.funding?.[book.venue] ? { cumulativeFunding: snapshot.funding[book.venue] } : {}),
      volatility: context.volatility,
      paramsVersion: params.version,
      previousStatus: before.status,
    },
  };
  const notifications = step.notifications.map((type) =>
    notificationFor(type, state, previous, snapshot, nowMs),
  );
  return { kind: "evaluated", evaluation, write: linkedWrite({ state, previous, notifications }) };
}
