export * from "./exposure.ts";
export * from "./folder.ts";
export * from "./replay-html.ts";
export * from "./s3.ts";
