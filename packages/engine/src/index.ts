export * from "./cache.ts";
export * from "./jobs.ts";
export * from "./ports.ts";
export * from "./stress-job.ts";
