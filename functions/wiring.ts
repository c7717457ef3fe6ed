import { connect, DynamoEngineStore } from "@backing/dynamo";
import type { ExposureJobDeps, StressJobDeps } from "@backing/engine";
import { exposureRendering, folderReportStore, s3ReportStore } from "@backing/reports";
import { z } from "zod";

/**
 * The one place that reads the environment (set by sst.config.ts in AWS; by hand or by the tests
 * locally), parsed once with zod. Everything below receives plain values.
 */
const Environment = z
  .object({
    BACKING_TABLE_NAME: z.string().min(3),
    BACKING_DYNAMODB_ENDPOINT: z.url().optional(),
    BACKING_REPORT_BUCKET: z.string().min(3).optional(),
    BACKING_REPORT_DIR: z.string().min(1).optional(),
    /** JSON object of implied vols per underlying, for options without a markPrice. */
    BACKING_VOLATILITY: z.string().optional(),
  })
  .refine((env) => env.BACKING_REPORT_BUCKET || env.BACKING_REPORT_DIR, {
    message: "set BACKING_REPORT_BUCKET (AWS) or BACKING_REPORT_DIR (local)",
  });

/** Everything the scheduled jobs need. */
export type JobDeps = StressJobDeps & ExposureJobDeps;

let cached: JobDeps | undefined;

export function wiring(env: NodeJS.ProcessEnv = process.env): JobDeps {
  if (cached) return cached;
  const config = Environment.parse(env);
  const { documents } = connect(
    config.BACKING_DYNAMODB_ENDPOINT ? { endpoint: config.BACKING_DYNAMODB_ENDPOINT } : {},
  );
  cached = {
    store: new DynamoEngineStore(documents, config.BACKING_TABLE_NAME),
    now: Date.now,
    volatility: z.record(z.string(), z.string()).parse(JSON.parse(config.BACKING_VOLATILITY ?? "{}")),
    reports: config.BACKING_REPORT_DIR
      ? folderReportStore(config.BACKING_REPORT_DIR)
      : s3ReportStore(config.BACKING_REPORT_BUCKET as string),
    rendering: exposureRendering,
  };
  return cached;
}
