export * from "./app.ts";
export * from "./auth.ts";
export * from "./openapi.ts";
export * from "./problem.ts";
