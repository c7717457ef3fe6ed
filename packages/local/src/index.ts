export * from "./demo.ts";
export * from "./demo-book.ts";
export * from "./dynamo-local.ts";
export * from "./scenarios/ftx-2022.ts";
export * from "./stream-poller.ts";
export * from "./task-queue.ts";
export * from "./topic-sink.ts";
export * from "./webhook-receiver.ts";
