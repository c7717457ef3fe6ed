/**
 * Accounts the engine can no longer evaluate (an asset unpriced, an instrument expired): stored,
 * but no call can be made on them until they are fixed. The sweep keeps these marks (DESIGN §9:
 * nothing goes silently unwatched); the API and the exposure report list them.
 */
export interface UnwatchedAccount {
  accountId: string;
  venue: string;
  /** What stops the evaluation, path by path (`positions[0].expiry: instrument expired at …`). */
  reasons: string[];
  /** When a sweep first found it so. */
  sinceMs: number;
  /** Whether its `account.unwatched` notification is in the outbox. */
  notified: boolean;
}

export interface UnwatchedRepository {
  listUnwatched(): Promise<UnwatchedAccount[]>;
  /** Writes the mark (a new one, or the same one once notified). */
  putUnwatched(mark: UnwatchedAccount): Promise<void>;
  deleteUnwatched(accountIds: readonly string[]): Promise<void>;
}
