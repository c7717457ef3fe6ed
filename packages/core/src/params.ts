import type { RiskParamsDocument, RiskParamsOverride } from "@backing/contracts";
import { Decimal, ONE, ZERO } from "./decimal.ts";

export interface HaircutTier {
  /** Lower edge of the tier in USD value (the previous tier's `upTo`). */
  from: Decimal;
  /** Upper edge, or null for the unbounded last tier. */
  upTo: Decimal | null;
  haircut: Decimal;
  /** 1 − haircut: the share of each dollar in the tier that counts. */
  weight: Decimal;
}

export interface Bracket {
  index: number;
  /** Lower edge of the bracket (the previous bracket's cap). */
  floor: Decimal;
  notionalCap: Decimal;
  maxLeverage: Decimal;
  mmr: Decimal;
  /** Maintenance amount that makes MM continuous at each bracket edge (DESIGN §3.3). */
  cum: Decimal;
}

export interface RiskParams {
  version: string;
  effectiveFrom: string;
  collateral: ReadonlyMap<string, readonly HaircutTier[]>;
  liabilitySurcharge: Decimal;
  brackets: ReadonlyMap<string, readonly Bracket[]>;
  options: { shortInitialBase: Decimal; shortInitialFloor: Decimal; shortMaintenance: Decimal };
  portfolio: {
    priceRange: Decimal;
    buckets: number;
    volUp: number;
    volDown: number;
    mmFactor: Decimal;
    contingency: Decimal;
  };
  status: { warningBuffer: Decimal; cureBuffer: Decimal; callDeadlineHours: number };
  document: RiskParamsDocument;
}

/**
 * cum_1 = 0; cum_n = floor_n × (mmr_n − mmr_{n−1}) + cum_{n−1}, floor_n = cap_{n−1}
 * (Binance's "maintenance amount"; reference/margin-methodology.md §1.1).
 */
export function buildBrackets(rows: RiskParamsDocument["brackets"][string]): Bracket[] {
  const brackets: Bracket[] = [];
  let previous: Bracket | undefined;
  for (const [index, row] of rows.entries()) {
    const mmr = new Decimal(row.mmr);
    const floor = previous ? previous.notionalCap : ZERO;
    const cum = previous ? floor.times(mmr.minus(previous.mmr)).plus(previous.cum) : ZERO;
    const bracket: Bracket = {
      index,
      floor,
      notionalCap: new Decimal(row.notionalCap),
      maxLeverage: new Decimal(row.maxLeverage),
      mmr,
      cum,
    };
    brackets.push(bracket);
    previous = bracket;
  }
  return brackets;
}

export function buildHaircutTiers(
  rows: RiskParamsDocument["collateral"][string]["haircutTiers"],
): HaircutTier[] {
  let from = ZERO;
  return rows.map((row) => {
    const haircut = new Decimal(row.haircut);
    const tier: HaircutTier = {
      from,
      upTo: row.upTo === null ? null : new Decimal(row.upTo),
      haircut,
      weight: ONE.minus(haircut),
    };
    if (tier.upTo) from = tier.upTo;
    return tier;
  });
}

export function buildRiskParams(document: RiskParamsDocument): RiskParams {
  const { portfolio, status, options } = document;
  return {
    version: document.version,
    effectiveFrom: document.effectiveFrom,
    collateral: new Map(
      Object.entries(document.collateral).map(([asset, c]) => [asset, buildHaircutTiers(c.haircutTiers)]),
    ),
    liabilitySurcharge: new Decimal(document.liabilitySurcharge),
    brackets: new Map(Object.entries(document.brackets).map(([asset, rows]) => [asset, buildBrackets(rows)])),
    options: {
      shortInitialBase: new Decimal(options.shortInitialBase),
      shortInitialFloor: new Decimal(options.shortInitialFloor),
      shortMaintenance: new Decimal(options.shortMaintenance),
    },
    portfolio: {
      priceRange: new Decimal(portfolio.priceRange),
      buckets: portfolio.buckets,
      volUp: Number(portfolio.volUp),
      volDown: Number(portfolio.volDown),
      mmFactor: new Decimal(portfolio.mmFactor),
      contingency: new Decimal(portfolio.contingency),
    },
    status: {
      warningBuffer: new Decimal(status.warningBuffer),
      cureBuffer: new Decimal(status.cureBuffer),
      callDeadlineHours: status.callDeadlineHours,
    },
    document,
  };
}

type Plain = Record<string, unknown>;
const isPlainObject = (value: unknown): value is Plain =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Key-by-key merge; arrays and scalars in the override replace the base whole (DESIGN §3.5). */
export function mergeParams(base: RiskParamsDocument, override: RiskParamsOverride | undefined): unknown {
  if (!override) return base;
  const merge = (left: unknown, right: unknown): unknown => {
    if (right === undefined) return left;
    if (!isPlainObject(left) || !isPlainObject(right)) return right;
    const merged: Plain = { ...left };
    for (const [key, value] of Object.entries(right)) merged[key] = merge(left[key], value);
    return merged;
  };
  return merge(base, override);
}
