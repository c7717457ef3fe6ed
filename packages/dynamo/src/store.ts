import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Store } from "@backing/engine";
import { DynamoAccounts } from "./repositories/accounts.ts";
import { DynamoApiKeys } from "./repositories/api-keys.ts";
import { DynamoDeliveries } from "./repositories/deliveries.ts";
import { DynamoDepth } from "./repositories/depth.ts";
import { DynamoEndpoints } from "./repositories/endpoints.ts";
import { DynamoFunding } from "./repositories/funding.ts";
import { DynamoJobRuns } from "./repositories/job-runs.ts";
import { DynamoLanes } from "./repositories/lanes.ts";
import { DynamoOutbox } from "./repositories/outbox.ts";
import { DynamoParams } from "./repositories/params.ts";
import { DynamoPrices } from "./repositories/prices.ts";
import { DynamoReportSummaries } from "./repositories/reports.ts";
import { DynamoRiskStates } from "./repositories/risk-states.ts";
import { DynamoSweepRuns } from "./repositories/sweep-runs.ts";
import { DynamoTriggerIndex } from "./repositories/trigger-index.ts";
import { DynamoUnwatched } from "./repositories/unwatched.ts";
import { TableClient } from "./table-client.ts";

/** Every role port over one DynamoDB table (see table.ts and keys.ts). */
export type DynamoEngineStore = Store;

/**
 * The store over one table: each role port is a repository (repositories/), sharing one
 * TableClient. Decimals stay strings; conditional failures become VersionConflictError.
 */
export function dynamoStore(documents: DynamoDBDocumentClient, tableName: string): DynamoEngineStore {
  const table = new TableClient(documents, tableName);
  const repositories = [
    new DynamoAccounts(table),
    new DynamoTriggerIndex(table),
    new DynamoRiskStates(table),
    new DynamoPrices(table),
    new DynamoParams(table),
    new DynamoReportSummaries(table),
    new DynamoOutbox(table),
    new DynamoEndpoints(table),
    new DynamoApiKeys(table),
    new DynamoDeliveries(table),
    new DynamoLanes(table),
    new DynamoSweepRuns(table),
    new DynamoJobRuns(table),
    new DynamoUnwatched(table),
    new DynamoFunding(table),
    new DynamoDepth(table),
  ];
  // Each repository's methods, bound to it: the store is a plain object, so a test can wrap it
  // (Object.create) and replace one method.
  const store: Record<string, unknown> = {};
  for (const repository of repositories) {
    const methods = repository as unknown as Record<string, (...args: never[]) => unknown>;
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(repository)))
      if (name !== "constructor") store[name] = methods[name]?.bind(repository);
  }
  return store as unknown as DynamoEngineStore;
}
