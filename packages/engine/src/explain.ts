import type { AccountResult, RiskParamsDocument } from "@backing/contracts";
import {
  type AccountStatus,
  buildRiskParams,
  callAmount,
  DEFAULT_RISK_PARAMS,
  evaluatePortfolioAccounts,
  marginTotals,
  nextStatus,
  parsePortfolio,
  type RiskParams,
  requirementString,
  valueString,
} from "@backing/core";
import type { EngineStore, EvaluationEvidence, NotificationRecord, WebhookStore } from "./ports/index.ts";
import { evaluationPrices } from "./recompute/snapshot.ts";

/** The figures a margin notification states, as compared between the stored and the re-run evaluation. */
export interface StatedFigures {
  status: AccountStatus;
  equity: string;
  initialMargin: string;
  maintenanceMargin: string;
  callAmount: string;
}

export interface Explanation {
  notification: { id: string; type: string; venue: string; account: string; createdAt: string };
  /** What the evaluation read: the account as it was, its prices, vols, params version and prior status. */
  inputs: EvaluationEvidence;
  stored: StatedFigures;
  recomputed: StatedFigures;
  /** Empty when the re-run reproduces every stored figure exactly. */
  diffs: { field: keyof StatedFigures; stored: string; recomputed: string }[];
  /** The status decision: the thresholds' verdict alone, the hysteresis, and the rule that applied. */
  decision: {
    previousStatus: AccountStatus;
    thresholdStatus: AccountStatus;
    status: AccountStatus;
    rule: string;
  };
  /** `backing evaluate --explain`'s trace of the same account at the same prices and params. */
  trace: AccountResult;
}

/** Why a notification cannot be explained (unknown id, a report notification, missing evidence). */
export class ExplainError extends Error {
  constructor(
    message: string,
    readonly reason: "not-found" | "not-explainable",
  ) {
    super(message);
    this.name = "ExplainError";
  }
}

const RANK: Record<AccountStatus, number> = { LIQUIDATION: 0, MARGIN_CALL: 1, WARNING: 2, HEALTHY: 3 };

/**
 * Re-runs the evaluation behind a margin notification from what was stored with it (DESIGN §6
 * `backing explain`): the account document, the price snapshot and vols, the params set of that
 * version, and the previous status. Core computes the figures again; every one must equal the
 * stored figure exactly, or it is listed in `diffs`.
 */
export async function explainNotification(
  store: Pick<EngineStore, "getParamsVersion"> & Pick<WebhookStore, "getNotification">,
  notificationId: string,
): Promise<Explanation> {
  const notification = await store.getNotification(notificationId);
  if (!notification) throw new ExplainError(`no notification ${notificationId}`, "not-found");
  return explainRecord(notification, await paramsOf(store, notification));
}

async function paramsOf(
  store: Pick<EngineStore, "getParamsVersion">,
  notification: NotificationRecord,
): Promise<RiskParamsDocument> {
  const version = notification.evidence?.paramsVersion;
  if (!version) throw notExplainable(notification);
  const stored = await store.getParamsVersion(version);
  if (stored) return stored;
  // The shipped defaults are in use until a set is put; they are not stored.
  if (version === DEFAULT_RISK_PARAMS.version) return DEFAULT_RISK_PARAMS;
  throw new ExplainError(`params version ${version} of ${notification.id} is not stored`, "not-explainable");
}

const notExplainable = (notification: NotificationRecord) =>
  new ExplainError(
    `${notification.id} (${notification.type}) carries no evaluation to re-run${notification.accountId ? "" : ": report notifications have none"}`,
    "not-explainable",
  );

/** A stored notification's figures against core's re-run of its evaluation. */
function recompute(notification: NotificationRecord, paramsDocument: RiskParamsDocument, params: RiskParams) {
  const { evidence, payload } = notification;
  if (!evidence || !("status" in payload.data)) throw notExplainable(notification);
  const data = payload.data;
  const portfolio = parsePortfolio(
    {
      asOf: evidence.asOf,
      prices: evaluationPrices(evidence.prices, params).prices,
      cumulativeFunding: evidence.cumulativeFunding
        ? { [evidence.account.venue]: evidence.cumulativeFunding }
        : {},
      volatility: evidence.volatility,
      accounts: [evidence.account],
    },
    paramsDocument,
  );
  const [book] = portfolio.accounts;
  if (!book) throw notExplainable(notification);
  const totals = marginTotals(book, portfolio.market, params);
  const thresholdStatus = nextStatus(null, totals, params);
  const status = nextStatus(evidence.previousStatus, totals, params);
  const recomputed: StatedFigures = {
    status,
    equity: valueString(totals.equity),
    initialMargin: requirementString(totals.initialMargin),
    maintenanceMargin: requirementString(totals.maintenanceMargin),
    callAmount: requirementString(callAmount(totals.equity, totals.initialMargin)),
  };
  const stored: StatedFigures = {
    status: data.status,
    equity: data.equity,
    initialMargin: data.initialMargin,
    maintenanceMargin: data.maintenanceMargin,
    callAmount: data.callAmount,
  };
  const diffs = (Object.keys(stored) as (keyof StatedFigures)[])
    .filter((field) => stored[field] !== recomputed[field])
    .map((field) => ({ field, stored: stored[field], recomputed: recomputed[field] }));
  return { evidence, data, portfolio, thresholdStatus, status, stored, recomputed, diffs };
}

export function explainRecord(
  notification: NotificationRecord,
  paramsDocument: RiskParamsDocument,
): Explanation {
  const { evidence, data, portfolio, thresholdStatus, status, stored, recomputed, diffs } = recompute(
    notification,
    paramsDocument,
    buildRiskParams(paramsDocument),
  );
  const [trace] = evaluatePortfolioAccounts(portfolio, { explain: true });
  return {
    notification: {
      id: notification.id,
      type: notification.type,
      venue: notification.venue,
      account: data.account,
      createdAt: new Date(notification.createdAtMs).toISOString(),
    },
    inputs: evidence,
    stored,
    recomputed,
    diffs,
    decision: {
      previousStatus: evidence.previousStatus,
      thresholdStatus,
      status,
      rule: ruleOf(
        notification.type,
        evidence.previousStatus,
        thresholdStatus,
        status,
        paramsDocument,
        data.deadline,
      ),
    },
    trace: trace as AccountResult,
  };
}

/** A figure of a notification that its re-run did not reproduce. */
export interface NotificationDiff {
  notificationId: string;
  field: keyof StatedFigures;
  stored: string;
  recomputed: string;
}

/**
 * `explain` over many margin notifications at once (the demo checks every one): each params
 * version is read and built once, and only the stated figures are recomputed (no trace). Returns
 * every figure that differs; empty when all reproduce exactly.
 */
export async function explainNotifications(
  store: Pick<EngineStore, "getParamsVersion">,
  notifications: readonly NotificationRecord[],
  options: { onProgress?: (done: number) => void; progressEvery?: number } = {},
): Promise<NotificationDiff[]> {
  const paramsByVersion = new Map<string, { document: RiskParamsDocument; params: RiskParams }>();
  const diffs: NotificationDiff[] = [];
  const every = options.progressEvery ?? 500;
  for (const [i, notification] of notifications.entries()) {
    const version = notification.evidence?.paramsVersion;
    if (!version) throw notExplainable(notification);
    let entry = paramsByVersion.get(version);
    if (!entry) {
      const document = await paramsOf(store, notification);
      entry = { document, params: buildRiskParams(document) };
      paramsByVersion.set(version, entry);
    }
    for (const diff of recompute(notification, entry.document, entry.params).diffs)
      diffs.push({ notificationId: notification.id, ...diff });
    if ((i + 1) % every === 0 || i + 1 === notifications.length) options.onProgress?.(i + 1);
  }
  return diffs;
}

function ruleOf(
  type: string,
  previous: AccountStatus,
  threshold: AccountStatus,
  status: AccountStatus,
  params: RiskParamsDocument,
  deadline: string | null,
): string {
  const { warningBuffer, cureBuffer } = params.status;
  const thresholds = `equity against MM (LIQUIDATION below), IM (MARGIN_CALL below) and IM × (1 + ${warningBuffer}) (WARNING below)`;
  if (type === "margin.call.expired")
    return `deadline: the episode's deadline ${deadline} passed without a cure; the figures are those of its last evaluation`;
  if (RANK[threshold] <= RANK[previous])
    return `worsening or unchanged (${previous} → ${status}): the thresholds apply directly, ${thresholds}`;
  if (status === previous)
    return `hysteresis held ${previous}: the thresholds alone say ${threshold}, but a better status needs equity to clear every requirement × (1 + cureBuffer ${cureBuffer})`;
  return `cure (${previous} → ${status}): equity cleared the requirements × (1 + cureBuffer ${cureBuffer})`;
}
