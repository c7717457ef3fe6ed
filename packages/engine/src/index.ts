export * from "./jobs.ts";
export * from "./ports.ts";
