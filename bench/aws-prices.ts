/**
 * AWS's published on-demand prices that the cost bench multiplies measured usage by. One place,
 * with their date and region: update them here when AWS changes them.
 */
export const AWS_PRICES = {
  region: "us-east-1",
  /** As published on the DynamoDB and Lambda pricing pages after DynamoDB's 1 November 2024 on-demand cut; checked 2026-12-06. */
  asOf: "2026-12-06",
  dynamodb: {
    /** On-demand, Standard table class: per write request unit (1 KB; a transactional write is 2). */
    writeRequestUnit: 0.625 / 1_000_000,
    /** Per read request unit (4 KB strongly consistent, or 2 × 4 KB eventually consistent). */
    readRequestUnit: 0.125 / 1_000_000,
    /** Per GB-month stored (Standard table class). */
    storageGbMonth: 0.25,
  },
  lambda: {
    /** Arm64 (the functions' architecture in sst.config.ts), first 7.5 billion GB-seconds a month. */
    gbSecond: 0.0000133334,
    request: 0.2 / 1_000_000,
  },
} as const;
