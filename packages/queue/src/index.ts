export * from "./sqs.ts";
export * from "./topic.ts";
