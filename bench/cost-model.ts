/**
 * The cost model of `npm run bench:cost` (DESIGN §4.1 and §8): measured request units and CPU time
 * of one component at the bench's book size, scaled to a day at the target book size.
 *
 * A component's usage has a part per run that does not depend on the book (a tick's price write,
 * a report's summary) and a part that grows with the accounts (a sweep's reads, a crash tick's
 * re-evaluations); only the second is scaled by target accounts ÷ bench accounts.
 */
import { AWS_PRICES } from "./aws-prices.ts";

export interface Usage {
  readUnits: number;
  writeUnits: number;
  /** DynamoDB calls made: each one a round trip the Lambda waits for. */
  requests: number;
  /** CPU seconds of the Lambda code (measured in this process). */
  cpuSeconds: number;
  /** Lambda invocations. */
  invocations: number;
  /** Seconds a function sleeps between polls (the Redeliver run's second-by-second window): billed, no CPU. */
  waitSeconds: number;
}

export interface ComponentModel {
  name: string;
  /** What the day is made of, said in words (runs per day and what scales). */
  basis: string;
  /** Usage per run that does not grow with the book. */
  fixed: Usage;
  /** Usage per run that grows with the book, measured at `benchAccounts`. */
  perBook: Usage;
  runsPerDay: number;
}

/** Memory of every function (sst.config.ts): 1024 MB is 1024/1769 of a vCPU, so CPU-bound work runs 1.73× longer than on a core. */
export const FUNCTION_MEMORY_GB = 1;
export const VCPU_MEMORY_GB = 1.769;
/** A DynamoDB round trip from Lambda, waited for with 4 calls in flight (the engine's batching). */
export const ROUND_TRIP_SECONDS = 0.004;
export const IN_FLIGHT = 4;

export const noUsage = (): Usage => ({
  readUnits: 0,
  writeUnits: 0,
  requests: 0,
  cpuSeconds: 0,
  invocations: 0,
  waitSeconds: 0,
});

export function scaled(usage: Usage, factor: number): Usage {
  return {
    readUnits: usage.readUnits * factor,
    writeUnits: usage.writeUnits * factor,
    requests: usage.requests * factor,
    cpuSeconds: usage.cpuSeconds * factor,
    invocations: usage.invocations * factor,
    waitSeconds: usage.waitSeconds * factor,
  };
}

export function added(a: Usage, b: Usage): Usage {
  return {
    readUnits: a.readUnits + b.readUnits,
    writeUnits: a.writeUnits + b.writeUnits,
    requests: a.requests + b.requests,
    cpuSeconds: a.cpuSeconds + b.cpuSeconds,
    invocations: a.invocations + b.invocations,
    waitSeconds: a.waitSeconds + b.waitSeconds,
  };
}

/** Billed Lambda duration: CPU time at the function's share of a vCPU, its DynamoDB round trips and its sleeps. */
export function lambdaGbSeconds(usage: Usage): number {
  const cpuBound = usage.cpuSeconds * (VCPU_MEMORY_GB / FUNCTION_MEMORY_GB);
  const waiting = (usage.requests * ROUND_TRIP_SECONDS) / IN_FLIGHT + usage.waitSeconds;
  return (cpuBound + waiting) * FUNCTION_MEMORY_GB;
}

export interface DailyCost {
  name: string;
  basis: string;
  perDay: Usage;
  dynamodbUsd: number;
  lambdaUsd: number;
}

/** One component's day at `targetAccounts`. */
export function dailyCost(
  component: ComponentModel,
  benchAccounts: number,
  targetAccounts: number,
): DailyCost {
  const perRun = added(component.fixed, scaled(component.perBook, targetAccounts / benchAccounts));
  const perDay = scaled(perRun, component.runsPerDay);
  const { dynamodb, lambda } = AWS_PRICES;
  return {
    name: component.name,
    basis: component.basis,
    perDay,
    dynamodbUsd: perDay.readUnits * dynamodb.readRequestUnit + perDay.writeUnits * dynamodb.writeRequestUnit,
    lambdaUsd: lambdaGbSeconds(perDay) * lambda.gbSecond + perDay.invocations * lambda.request,
  };
}

/** Storage of the book for a day: the table's bytes per account × accounts, at the monthly price. */
export function storagePerDay(bytesPerAccount: number, accounts: number): number {
  return ((bytesPerAccount * accounts) / 1e9) * (AWS_PRICES.dynamodb.storageGbMonth / 30);
}
