/** Exposure report rendering (JSON, CSV, HTML): pure, no AWS, so the CLI loads it without the SDK. */
import type { ExposureReport } from "@backing/contracts";
import type { ExposureRendering } from "@backing/engine";
import {
  accountsCsvHeader,
  accountsCsvRows,
  exposureCsvTables,
  parseAccountsCsv,
  unwatchedCsv,
} from "./exposure-csv.ts";
import { exposureHtml } from "./exposure-html.ts";

export * from "./exposure-csv.ts";
export * from "./exposure-html.ts";

export const EXPOSURE_JSON = "exposure.json";
export const EXPOSURE_HTML = "exposure.html";

/** Every file of a report but the accounts table, by format. */
export function exposureFiles(report: ExposureReport, format: "json" | "csv" | "html" | "all" = "all") {
  const files: Record<string, string> = {};
  if (format === "json" || format === "all") files[EXPOSURE_JSON] = `${JSON.stringify(report, null, 2)}\n`;
  if (format === "csv" || format === "all") Object.assign(files, exposureCsvTables(report));
  if (format === "html" || format === "all") files[EXPOSURE_HTML] = exposureHtml(report);
  return files;
}

export const exposureRendering: ExposureRendering = {
  files: (report) => exposureFiles(report),
  accountsHeader: accountsCsvHeader,
  accountRows: accountsCsvRows,
  parseAccounts: parseAccountsCsv,
  unwatchedTable: unwatchedCsv,
};
