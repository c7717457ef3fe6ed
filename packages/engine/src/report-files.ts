/** Which stored file of a report a reader asks for. */
import type { ReportSummary } from "./ports/index.ts";

/**
 * The file of a stored report in a format: the stress report is one JSON object (undefined: no
 * file name); the exposure report has JSON, HTML and one CSV per table (`file`). Null: no such
 * format for this kind.
 */
export function reportFileName(
  kind: ReportSummary["kind"],
  format: string,
  file?: string,
): string | undefined | null {
  if (kind === "stress") return format === "json" ? undefined : null;
  if (format === "json") return "exposure.json";
  if (format === "html") return "exposure.html";
  if (format === "csv" && file && /^[a-z]+$/.test(file)) return `${file}.csv`;
  return null;
}
