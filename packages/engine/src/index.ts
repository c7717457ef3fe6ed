export * from "./cache.ts";
export * from "./jobs.ts";
export * from "./ports.ts";
