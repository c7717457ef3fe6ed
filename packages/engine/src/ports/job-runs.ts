/** A sharded whole-book job (the exposure report, the stress pack): map per segment, then reduce. */
export type JobKind = "exposure" | "stress";

export interface JobRun {
  /** The report's id: a re-run of the same report is the same run. */
  id: string;
  kind: JobKind;
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
   * Moves the run on from `pass`, to the next pass or to finished: true for the one caller that
   * moved it (two workers may both see the last segment report).
   */
  advanceJobRun(
    id: string,
    pass: number,
    next: { pass: number } | { finishedAtMs: number },
  ): Promise<boolean>;
}
