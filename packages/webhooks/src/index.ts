export * from "./address-guard.ts";
export * from "./deliver.ts";
export * from "./schedule.ts";
export * from "./signing.ts";
