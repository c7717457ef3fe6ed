import type { Account, AccountResult } from "@backing/contracts";
import { evaluatePortfolio, parsePortfolio } from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import type { StoredRiskState } from "./ports/index.ts";
import { evaluationPrices, snapshotOf, snapshotPrices, volatilityOf } from "./recompute/snapshot.ts";

export interface AccountRisk {
  /** What the engine last stored (status, episode, figures); null if it never changed from HEALTHY. */
  state: Omit<StoredRiskState, "evidence"> | null;
  /** The account evaluated now, at the latest prices (with any what-if replacements), with its explain trace. */
  current: {
    asOf: string;
    paramsVersion: string;
    prices: Record<string, { index: string; mark: string }>;
    result: AccountResult;
  };
}

/**
 * A stored account's risk (the caller has read the account document): its stored state, and an evaluation at the latest accepted prices and
 * the current params, optionally with some prices replaced (a what-if). Writes nothing.
 */
export async function accountRisk(
  deps: EngineDeps,
  account: Account,
  replacements: Record<string, { index: string; mark?: string | undefined }> = {},
): Promise<AccountRisk> {
  const accountId = account.id;
  const [params, records, states, funding] = await Promise.all([
    currentParams(deps.store),
    deps.store.getPrices(),
    deps.store.getRiskStates([accountId]),
    deps.store.getFunding(),
  ]);
  const prices = {
    ...evaluationPrices(snapshotPrices(snapshotOf(records)), params).prices,
    ...Object.fromEntries(
      Object.entries(replacements).map(([asset, q]) => [asset, { index: q.index, mark: q.mark ?? q.index }]),
    ),
  };
  const asOf = new Date(deps.now()).toISOString();
  const portfolio = parsePortfolio(
    {
      asOf,
      prices,
      volatility: volatilityOf(snapshotOf(records, funding), deps.volatility ?? {}),
      cumulativeFunding: snapshotOf(records, funding).funding ?? {},
      accounts: [account],
    },
    params.document,
  );
  const [result] = evaluatePortfolio(portfolio, { explain: true }).accounts;
  const state = states.get(accountId);
  let visible: AccountRisk["state"] = null;
  if (state) {
    const { evidence: _, ...rest } = state;
    visible = rest;
  }
  return {
    state: visible,
    current: { asOf, paramsVersion: params.version, prices, result: result as AccountResult },
  };
}
