import type { RecomputeResult } from "../recompute/index.ts";

/** What one segment of a sweep found: its recomputes' sums, which merge in any order. */
export interface SweepTotals extends RecomputeResult {
  accounts: number;
}

/**
 * What a sweep reads: `full`, every account of the book; `index`, only the accounts the trigger
 * index says the latest prices have left (and those with no band), what a lost tick would leave.
 */
export type SweepMode = "full" | "index";

/** A sharded sweep: its segments, and (once the last segment reported) its summary. */
export interface SweepRun {
  id: string;
  segments: number;
  startedAtMs: number;
  summary: SweepSummary | null;
  /** Absent on runs stored before sweeps had modes: full. */
  mode?: SweepMode;
  /** The params version the run started under. */
  paramsVersion?: string;
}

/** The last full sweep that finished: when it started and under which params. */
export interface FullSweepRecord {
  startedAtMs: number;
  paramsVersion: string;
}

export interface SweepSummary extends SweepTotals {
  expired: number;
  staleAssets: string[];
  /** Assets whose mark lies beyond maxMarkDeviation of the index: evaluated at the bound. */
  markGuardedAssets: string[];
  /** Accounts marked unwatched (not evaluable) when the sweep ended. */
  unwatched: number;
  finishedAtMs: number;
}

/** The runs of the sharded sweep, and the lease that keeps two sweeps from overlapping. */
export interface SweepRunRepository {
  /** Takes the lease for `owner` until `untilMs` if it is free or expired at `nowMs`; false if another holds it. */
  acquireSweepLease(owner: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Frees the lease if `owner` holds it. */
  releaseSweepLease(owner: string): Promise<void>;
  createSweepRun(run: SweepRun): Promise<void>;
  getSweepRun(id: string): Promise<SweepRun | null>;
  /**
   * Records a segment's totals once (a retried segment's second report is ignored) and returns
   * every segment's totals reported so far, by segment.
   */
  reportSweepSegment(runId: string, segment: number, totals: SweepTotals): Promise<Map<number, SweepTotals>>;
  /** Stores the run's summary unless one is stored already: true for the one caller that stored it. */
  finishSweepRun(runId: string, summary: SweepSummary): Promise<boolean>;
  lastFullSweep(): Promise<FullSweepRecord | null>;
  /** Keeps the later of the stored record and this one. */
  recordFullSweep(record: FullSweepRecord): Promise<void>;
}
