import type { Account } from "@backing/contracts";
import type { StoredRiskState } from "./risk-states.ts";

export interface StoredAccount {
  account: Account;
  version: number;
}

export interface BookPage {
  accounts: Account[];
  states: Map<string, StoredRiskState>;
}

/** The venues' account documents: the book every job reads. */
export interface AccountRepository {
  /**
   * Writes the documents, each with a "no band" exposure entry per asset (the next tick on any of
   * them evaluates it), except the assets `keepExposure` lists for its account: a caller that owns
   * the book and keeps the trigger index in memory knows those entries already say "no band".
   */
  putAccounts(accounts: Account[], keepExposure?: ReadonlyMap<string, readonly string[]>): Promise<void>;
  getAccounts(ids: readonly string[]): Promise<Map<string, StoredAccount>>;
  /** Removes the account, its risk state and its exposure entries. */
  deleteAccount(account: Account): Promise<void>;
  /**
   * Every stored account, a page at a time (bounded memory for whole-book jobs); with a segment,
   * only that share of the book, the same share for the same segment count every time.
   */
  scanAccounts(pageSize: number, segment?: { index: number; count: number }): AsyncIterable<Account[]>;
  /**
   * Every stored account with its risk state (if it has one), a page of accounts at a time; with a
   * segment, only that share of the book (segments `0..count-1` together cover it once).
   */
  scanBook(pageSize: number, segment?: { index: number; count: number }): AsyncIterable<BookPage>;
}
