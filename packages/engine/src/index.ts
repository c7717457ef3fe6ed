export * from "./cache.ts";
export * from "./exposure-job.ts";
export * from "./fanout.ts";
export * from "./jobs.ts";
export * from "./notifications.ts";
export * from "./ports.ts";
export * from "./stress-job.ts";
export * from "./webhook-jobs.ts";
