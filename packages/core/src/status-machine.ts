import { type AccountStatus, type MarginTotals, STATUSES, statusOf } from "./account.ts";
import { ONE } from "./decimal.ts";
import { totalsStatus } from "./kernel.ts";
import type { RiskParams } from "./params.ts";

export type NotificationType =
  | "margin.warning"
  | "margin.call"
  | "margin.liquidation"
  | "margin.cured"
  | "margin.call.expired";

/** A margin-call episode: opens on entering MARGIN_CALL or LIQUIDATION, closes on HEALTHY or WARNING. */
export interface Episode {
  id: string;
  openedAtMs: number;
  deadlineMs: number;
  /** A margin.liquidation was emitted in this episode (at most one). */
  liquidationNotified: boolean;
  /** A margin.call.expired was emitted in this episode (at most one). */
  expiredNotified: boolean;
}

export interface StatusState {
  status: AccountStatus;
  episode: Episode | null;
}

export type Requirements = MarginTotals;

const rank = (status: AccountStatus) => STATUSES.indexOf(status); // 0 = LIQUIDATION … 3 = HEALTHY
const inEpisode = (status: AccountStatus) => status === "MARGIN_CALL" || status === "LIQUIDATION";

/**
 * The status with hysteresis (DESIGN §3.6): toward a worse status at the thresholds of §3.3;
 * toward a better one only once equity clears the threshold by cureBuffer (every requirement scaled
 * by 1 + cureBuffer), so a price hovering at a boundary cannot flap.
 */
export function nextStatus(
  previous: AccountStatus | null,
  requirements: Requirements,
  params: RiskParams,
): AccountStatus {
  const { warningBuffer, cureBuffer } = params.status;
  // Integer comparisons on kernel totals; Decimals are only read on the (rare) way up.
  const raw = totalsStatus(requirements, warningBuffer);
  if (previous === null || rank(raw) <= rank(previous)) return raw;
  const { equity, initialMargin, maintenanceMargin } = requirements;
  const cure = ONE.plus(cureBuffer);
  const cured = statusOf(equity, initialMargin.times(cure), maintenanceMargin.times(cure), warningBuffer);
  return rank(cured) > rank(previous) ? cured : previous;
}

export interface Transition {
  state: StatusState;
  /** Notification types to emit, in order; at most one of each per transition. */
  notifications: NotificationType[];
}

/**
 * The episode bookkeeping of DESIGN §3.6: one margin.call (or margin.liquidation when the account
 * enters LIQUIDATION directly) when an episode opens, one margin.liquidation if it worsens, one
 * margin.cured when it closes; margin.warning when a healthy account enters WARNING. The episode id
 * is derived from the account and the time it opened, so a replay derives the same id.
 */
export function transition(
  previous: StatusState | null,
  status: AccountStatus,
  context: { accountId: string; atMs: number },
  params: RiskParams,
): Transition {
  const before = previous?.status ?? null;
  const notifications: NotificationType[] = [];
  let episode = previous?.episode ?? null;
  if (inEpisode(status) && !episode) {
    episode = {
      id: `${context.accountId}@${new Date(context.atMs).toISOString()}`,
      openedAtMs: context.atMs,
      deadlineMs: context.atMs + params.status.callDeadlineHours * 3_600_000,
      liquidationNotified: status === "LIQUIDATION",
      expiredNotified: false,
    };
    notifications.push(status === "LIQUIDATION" ? "margin.liquidation" : "margin.call");
  } else if (episode && status === "LIQUIDATION" && !episode.liquidationNotified) {
    episode = { ...episode, liquidationNotified: true };
    notifications.push("margin.liquidation");
  } else if (episode && !inEpisode(status)) {
    episode = null;
    notifications.push("margin.cured");
  } else if (status === "WARNING" && before === "HEALTHY") {
    notifications.push("margin.warning");
  }
  return { state: { status, episode }, notifications };
}

/** margin.call.expired, once, when an open episode's deadline has passed. */
export function expire(state: StatusState, atMs: number): Transition {
  const { episode } = state;
  if (!episode || episode.expiredNotified || atMs < episode.deadlineMs) return { state, notifications: [] };
  return {
    state: { ...state, episode: { ...episode, expiredNotified: true } },
    notifications: ["margin.call.expired"],
  };
}
