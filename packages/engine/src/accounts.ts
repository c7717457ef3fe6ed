/** A venue's account documents in: one by one (evaluated at once) or as an NDJSON import. */
import { Account, type InputIssue, issuesFromZod } from "@backing/contracts";
import { PortfolioInputError, parsePortfolio, type RiskParams } from "@backing/core";
import { forEachConcurrently } from "./concurrency.ts";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import { AccountIdTakenError, AccountInputError } from "./errors.ts";
import { type AccountRepository, exposureAssets, type TriggerIndex } from "./ports/index.ts";
import { type RecomputeResult, recomputeAccounts } from "./recompute/index.ts";

/** New documents in; an updated account keeps its risk state, and drops the exposure entries of assets it left. */
export async function replaceAccounts(
  store: AccountRepository & TriggerIndex,
  accounts: Account[],
  previous: ReadonlyMap<string, Account>,
): Promise<void> {
  await store.putAccounts(accounts);
  const drops = accounts.flatMap((account) => {
    const before = previous.get(account.id);
    if (!before) return [];
    const now = new Set(exposureAssets(account));
    const left = exposureAssets(before).filter((asset) => !now.has(asset));
    return left.length > 0 ? [{ accountId: account.id, left }] : [];
  });
  // A venue's liquidations drop many accounts' exposure at once: the requests go out together.
  await forEachConcurrently(drops, DROPS_IN_FLIGHT, ({ accountId, left }) =>
    store.dropExposure(accountId, left),
  );
}

const DROPS_IN_FLIGHT = 8;

/**
 * What no price can ever cure in an account: an asset the parameters do not know, an instrument
 * already expired, an instrument listed twice, an option with neither a mark nor a configured
 * volatility. Stored, such an account would be skipped by every evaluation and never watched.
 * (Prices are not asked for: an asset unpriced today may be priced by the next tick.)
 */
export function neverEvaluable(
  account: Account,
  params: RiskParams,
  volatility: Record<string, string>,
  nowMs: number,
): InputIssue[] {
  const assets = [...Object.keys(account.collateral), ...account.positions.map((p) => p.underlying)];
  const anyPrice = Object.fromEntries(assets.map((asset) => [asset, { index: "1" }]));
  try {
    parsePortfolio(
      { asOf: new Date(nowMs).toISOString(), prices: anyPrice, volatility, accounts: [account] },
      params.document,
    );
    return [];
  } catch (error) {
    if (!(error instanceof PortfolioInputError)) throw error;
    return error.issues.map((i) => ({ path: i.path.replace(/^accounts\[0\]\.?/, ""), message: i.message }));
  }
}

/**
 * Creates or replaces one account and evaluates it at once (its state and bands), so its status
 * reflects the new document now. Throws AccountInputError for an account that could never be
 * evaluated, AccountIdTakenError when another venue holds the id.
 */
export async function putAccount(
  deps: EngineDeps,
  account: Account,
): Promise<{ created: boolean; invalid: RecomputeResult["invalid"] }> {
  const issues = neverEvaluable(account, await currentParams(deps.store), deps.volatility ?? {}, deps.now());
  if (issues.length > 0) throw new AccountInputError(issues);
  const existing = (await deps.store.getAccounts([account.id])).get(account.id);
  if (existing && existing.account.venue !== account.venue) throw new AccountIdTakenError(account.id);
  await replaceAccounts(
    deps.store,
    [account],
    existing ? new Map([[account.id, existing.account]]) : new Map(),
  );
  const evaluation = await recomputeAccounts([account.id], deps, { bands: true });
  return { created: !existing, invalid: evaluation.invalid };
}

/** One line of an import: its text, or only its size when it was over the line limit. */
export type ImportLine = string | { oversizedBytes: number; limitBytes: number };

export interface ImportResult {
  imported: number;
  failed: number;
  /** Per refused line (1-based), what is wrong with it; in line order. */
  errors: { line: number; errors: { path: string; message: string }[] }[];
}

/**
 * An NDJSON import: one account document per line. A bad line (not JSON, not an account, another
 * venue's, a repeated id, an id another venue holds) is refused on its own with its path; the
 * good ones are stored (not evaluated: the next tick or sweep does that). `actingVenue` is the
 * venue the caller acts for, or null for an operator, who may import any venue's accounts.
 */
export async function importAccounts(
  deps: EngineDeps,
  lines: readonly ImportLine[],
  actingVenue: string | null,
): Promise<ImportResult> {
  const { store } = deps;
  // Read once, and only when a line gets as far as needing it.
  let params: RiskParams | undefined;
  const nowMs = deps.now();
  const accounts: { account: Account; line: number }[] = [];
  const errors: ImportResult["errors"] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const lineErrors = (issues: { path: string; message: string }[]) =>
      errors.push({ line: i + 1, errors: issues });
    if (typeof line !== "string") {
      lineErrors([
        {
          path: "(line)",
          message: `${line.oversizedBytes} bytes, over the ${line.limitBytes}-byte line limit`,
        },
      ]);
      continue;
    }
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      lineErrors([{ path: "(line)", message: "not JSON" }]);
      continue;
    }
    const result = Account.safeParse(parsed);
    if (!result.success) {
      lineErrors(issuesFromZod(result.error));
      continue;
    }
    const account = result.data;
    if (actingVenue !== null && account.venue !== actingVenue) {
      lineErrors([{ path: "venue", message: `this key acts for venue ${actingVenue}` }]);
      continue;
    }
    params ??= await currentParams(store);
    const issues = neverEvaluable(account, params, deps.volatility ?? {}, nowMs);
    if (issues.length > 0) {
      lineErrors(issues);
      continue;
    }
    if (seen.has(account.id)) {
      lineErrors([{ path: "id", message: `account ${account.id} appears twice in this import` }]);
      continue;
    }
    seen.add(account.id);
    accounts.push({ account, line: i + 1 });
  }
  // Ids another venue already holds are refused line by line, like any other bad line.
  const existing = await store.getAccounts(accounts.map((a) => a.account.id));
  const accepted = accounts
    .filter(({ account, line }) => {
      const other = existing.get(account.id);
      if (!other || other.account.venue === account.venue) return true;
      errors.push({ line, errors: [{ path: "id", message: new AccountIdTakenError(account.id).message }] });
      return false;
    })
    .map(({ account }) => account);
  await replaceAccounts(store, accepted, new Map([...existing].map(([id, s]) => [id, s.account])));
  errors.sort((a, b) => a.line - b.line);
  return { imported: accepted.length, failed: errors.length, errors };
}
