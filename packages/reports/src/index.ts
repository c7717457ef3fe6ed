export * from "./exposure.ts";
export * from "./folder.ts";
export * from "./s3.ts";
