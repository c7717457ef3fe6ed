export * from "./evaluation.ts";
export * from "./events.ts";
export * from "./exposure.ts";
export * from "./issues.ts";
export * from "./params.ts";
export * from "./portfolio.ts";
export * from "./primitives.ts";
export * from "./stress.ts";
