import type { AccountRepository } from "./accounts.ts";
import type { ApiKeyRepository } from "./api-keys.ts";
import type { DeliveryRepository, LaneRepository } from "./deliveries.ts";
import type { DepthRepository } from "./depth.ts";
import type { EndpointRepository } from "./endpoints.ts";
import type { FundingRepository } from "./funding.ts";
import type { JobRunRepository } from "./job-runs.ts";
import type { Outbox } from "./outbox.ts";
import type { ParamsRepository } from "./params.ts";
import type { PriceRepository } from "./prices.ts";
import type { ReportSummaryRepository } from "./reports.ts";
import type { RiskStateRepository } from "./risk-states.ts";
import type { SweepRunRepository } from "./sweep-runs.ts";
import type { TriggerIndex } from "./trigger-index.ts";
import type { UnwatchedRepository } from "./unwatched.ts";

export * from "./accounts.ts";
export * from "./api-keys.ts";
export * from "./deliveries.ts";
export * from "./depth.ts";
export * from "./endpoints.ts";
export * from "./funding.ts";
export * from "./job-runs.ts";
export * from "./outbox.ts";
export * from "./params.ts";
export * from "./prices.ts";
export * from "./reports.ts";
export * from "./risk-states.ts";
export * from "./sweep-runs.ts";
export * from "./trigger-index.ts";
export * from "./unwatched.ts";

/** What the price, sweep, expiry, stress and exposure jobs read and write. */
export type EngineStore = AccountRepository &
  RiskStateRepository &
  PriceRepository &
  TriggerIndex &
  ParamsRepository &
  Outbox &
  ReportSummaryRepository &
  UnwatchedRepository &
  FundingRepository &
  DepthRepository;

/** What webhook delivery reads and writes. */
export type WebhookStore = EndpointRepository & Outbox & DeliveryRepository & LaneRepository;

/** Every role port: what one table (DynamoDB, or memory in tests) implements. */
export type Store = EngineStore & WebhookStore & ApiKeyRepository & SweepRunRepository & JobRunRepository;
