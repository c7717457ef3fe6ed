import type { AccountStatus, Episode } from "@backing/core";
import type { EvaluationEvidence, NotificationRecord, PrecedingNotification } from "./outbox.ts";

/** What the engine remembers of an account between evaluations. */
export interface StoredRiskState {
  accountId: string;
  venue: string;
  status: AccountStatus;
  episode: Episode | null;
  equity: string;
  initialMargin: string;
  maintenanceMargin: string;
  callAmount: string;
  paramsVersion: string;
  snapshotId: string;
  evaluatedAtMs: number;
  /** The sum of the evaluated snapshot's price times: orders evaluations (absent on older states). */
  snapshotOrder?: number;
  /** Optimistic concurrency: every write is conditional on the version it read. */
  version: number;
  /** Everything the evaluation behind these figures read, so `backing explain` can re-run it exactly. */
  evidence?: EvaluationEvidence;
  /** The account's latest notification of each type, newest first (the next ones' `preceding`). */
  notified?: PrecedingNotification[];
}

/** A status transition and its notifications: written atomically (the transactional outbox). */
export interface StateWrite {
  state: StoredRiskState;
  /** The state read (the write is conditional on its version); null when there was none. */
  previous: StoredRiskState | null;
  notifications: NotificationRecord[];
}

/** What the engine remembers of each account between evaluations, written with its outbox items. */
export interface RiskStateRepository {
  getRiskStates(ids: readonly string[]): Promise<Map<string, StoredRiskState>>;
  /** Throws VersionConflictError when the state moved since it was read. */
  writeState(write: StateWrite): Promise<void>;
  /**
   * Many accounts' writes, each all-or-nothing, in few requests. Returns the accounts not written
   * because their state moved since it was read (or another writer held it): re-read and retry them.
   */
  writeStates(writes: readonly StateWrite[]): Promise<Set<string>>;
  /** Accounts whose open episode's deadline is at or before `nowMs` and not yet expired. */
  dueEpisodes(nowMs: number): Promise<string[]>;
}
