/** A sharded whole-book job (the exposure report, the stress pack): map per segment, then reduce. */
export type JobKind = "exposure" | "stress";

export interface JobRun {
  id: string;
  kind: JobKind;
  /** The report it builds: the same report built twice (a repeated start) is two runs writing alike. */
  reportId: string;
  segments: number;
  startedAtMs: number;
  /** What every worker must see alike (prices, params, time, pack), pinned by the coordinator. */
  inputs: Record<string, unknown>;
  /** The pass the workers are on: exposure has one, a stress cascade one per round plus the report. */
  pass: number;
  finishedAtMs: number | null;
}

/** The runs of sharded jobs and their barrier: which segments finished which pass. */
export interface JobRunRepository {
  /** Stores a new run; false when a run with that id exists already (a repeated start). */
  createJobRun(run: JobRun): Promise<boolean>;
  getJobRun(id: string): Promise<JobRun | null>;
  /** Records once that a segment finished a pass; returns how many segments have finished it. */
  reportJobSegment(id: string, pass: number, segment: number): Promise<number>;
  /**
   * Moves an unfinished run on to a later pass, or to finished: true for the one caller that moved
   * it (two workers may both see a pass's last segment report).
   */
  advanceJobRun(id: string, next: { pass: number } | { finishedAtMs: number }): Promise<boolean>;
}
