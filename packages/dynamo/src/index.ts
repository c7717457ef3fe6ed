export * from "./capacity.ts";
export * from "./client.ts";
export * from "./keys.ts";
export * from "./store.ts";
export * from "./stream.ts";
export * from "./table.ts";
export { SST_TABLE_ARGS } from "./table-definition.ts";
