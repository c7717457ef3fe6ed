export * from "./dynamo-local.ts";
