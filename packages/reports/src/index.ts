export * from "./folder.ts";
export * from "./s3.ts";
