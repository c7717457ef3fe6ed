/** A stored report's summary (the full report lives in the ReportStore). */
export interface ReportSummary {
  kind: "stress" | "exposure";
  id: string;
  asOf: string;
  createdAtMs: number;
  location: string;
  summary: Record<string, unknown>;
}

/**
 * Where full reports go: S3 in AWS, a folder locally. Written as a stream of chunks: one object
 * `<kind>/<id>.json`, or, given a file name, one of several files `<kind>/<id>/<name>`.
 */
export interface ReportStore {
  write(
    kind: ReportSummary["kind"],
    id: string,
    chunks: AsyncIterable<string> | Iterable<string>,
    name?: string,
  ): Promise<string>;
  /** A file written with a name, or null when there is none. */
  read(kind: ReportSummary["kind"], id: string, name?: string): Promise<string | null>;
}

/** The stored reports' summaries (the reports themselves are in a ReportStore). */
export interface ReportSummaryRepository {
  putReportSummary(summary: ReportSummary): Promise<void>;
  /** The most recent stored report summary of a kind (by creation time), or null. */
  latestReportSummary(kind: ReportSummary["kind"]): Promise<ReportSummary | null>;
}
