import type { Account } from "@backing/contracts";

/** A trigger band as decimal strings: null for no band, "0" and "Infinity" for no edge that way. */
export interface StoredBand {
  accountId: string;
  asset: string;
  low: string | null;
  high: string | null;
}

/** A position with a size: a closed one (size 0, its realised PnL kept as accrued funding) moves with no price. */
export const isOpenPosition = (position: Account["positions"][number]) => !/^-?0(\.0*)?$/.test(position.size);

/** The assets whose price can move an account: its open positions' underlyings and its collateral assets. */
export function exposureAssets(account: Account): string[] {
  const open = account.positions.filter(isOpenPosition);
  return [...new Set([...open.map((p) => p.underlying), ...Object.keys(account.collateral)])];
}

/** Which accounts a price can move, and the trigger band (DESIGN §3.7) of each on each asset. */
export interface TriggerIndex {
  exposedAccountIds(asset: string): Promise<string[]>;
  /** Writes these trigger bands into the index, as they are. */
  putBands(bands: readonly StoredBand[]): Promise<void>;
  /** The stored bands of these accounts on these assets (as indexed: rounded toward the inside). */
  getBands(
    accounts: readonly { accountId: string; assets: readonly string[] }[],
  ): Promise<Map<string, StoredBand[]>>;
  /** Accounts whose band on `asset` does not hold a price whose index and mark span [lowest, highest]. */
  triggeredAccountIds(asset: string, lowest: string, highest: string): Promise<string[]>;
  /** Of these accounts, those with no band on one of their assets (never evaluated, or held). */
  unbandedAccountIds(accounts: readonly Account[]): Promise<Set<string>>;
  /**
   * Every account with no band on one of these assets, or null when there are more than `limit`
   * (then the caller asks per account with `unbandedAccountIds`). A snapshot: only efficiency
   * depends on it being current, since an unbanded account is recomputed on every move anyway.
   */
  allUnbandedAccountIds(assets: readonly string[], limit: number): Promise<Set<string> | null>;
  /** Removes an account's exposure entries (and bands) on assets it no longer holds. */
  dropExposure(accountId: string, assets: readonly string[]): Promise<void>;
}
