import { startDynamoLocal } from "@backing/local";
import type { TestProject } from "vitest/node";

/** One DynamoDB Local per test run, on a free loopback port; each test file makes its own table. */
export default async function setup(project: TestProject) {
  const external = process.env.BACKING_DYNAMODB_ENDPOINT;
  if (external) {
    project.provide("dynamoEndpoint", external);
    return;
  }
  const local = await startDynamoLocal();
  project.provide("dynamoEndpoint", local.endpoint);
  return async () => {
    await local.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
