import type { AccountBook, CollateralBalance, Market } from "./book.ts";
import { type Decimal, divideDown, ONE, ZERO } from "./decimal.ts";
import {
  type CollateralLine,
  linearFigures,
  optionFigures,
  type PositionFigures,
  underlyingMark,
  valueBalance,
} from "./margin.ts";
import type { RiskParams } from "./params.ts";
import { portfolioMargin, type UnderlyingRisk } from "./portfolio-margin.ts";

export type AccountStatus = "HEALTHY" | "WARNING" | "MARGIN_CALL" | "LIQUIDATION";

/** Worst first: the order in which DESIGN §3.3 checks the thresholds. */
export const STATUSES: readonly AccountStatus[] = ["LIQUIDATION", "MARGIN_CALL", "WARNING", "HEALTHY"];

/** The account-level figures every consumer needs (status, triggers, stress). */
export interface MarginTotals {
  collateralValue: Decimal;
  unrealizedPnl: Decimal;
  optionValue: Decimal;
  equity: Decimal;
  initialMargin: Decimal;
  maintenanceMargin: Decimal;
}

/** MarginTotals with the per-position and per-asset detail behind them. */
export interface AccountRisk extends MarginTotals {
  positions: PositionFigures[];
  collateral?: CollateralLine[];
  portfolio?: UnderlyingRisk[];
}

/**
 * LIQUIDATION if equity < MM; MARGIN_CALL if equity < IM; WARNING if equity < IM × (1 + warningBuffer);
 * else HEALTHY. Compared on exact values, before any output rounding.
 */
export function statusOf(
  equity: Decimal,
  initialMargin: Decimal,
  maintenanceMargin: Decimal,
  warningBuffer: Decimal,
): AccountStatus {
  if (equity.lt(maintenanceMargin)) return "LIQUIDATION";
  if (equity.lt(initialMargin)) return "MARGIN_CALL";
  if (equity.lt(initialMargin.times(ONE.plus(warningBuffer)))) return "WARNING";
  return "HEALTHY";
}

/** marginRatio = MM / equity, null when equity ≤ 0. */
export function marginRatio(equity: Decimal, maintenanceMargin: Decimal): Decimal | null {
  return equity.isPositive() && !equity.isZero() ? divideDown(maintenanceMargin, equity) : null;
}

/** callAmount = max(0, IM − equity). */
export function callAmount(equity: Decimal, initialMargin: Decimal): Decimal {
  const shortfall = initialMargin.minus(equity);
  return shortfall.isPositive() ? shortfall : ZERO;
}

/**
 * What one balance counts toward equity at `index`. Portfolio mode: collateral in one of the
 * account's underlyings sits in that underlying's grid, un-haircut (`inGrid`).
 */
export function collateralLine(
  balance: CollateralBalance,
  index: Decimal,
  params: RiskParams,
  inGrid: boolean,
  explain = false,
): CollateralLine {
  if (inGrid) {
    const usdValue = balance.amount.times(index);
    return { asset: balance.asset, amount: balance.amount, index, usdValue, counted: usdValue };
  }
  const tiers = params.collateral.get(balance.asset) ?? [];
  return valueBalance(balance.asset, balance.amount, index, tiers, params.liabilitySurcharge, explain);
}

/** Code-unit order of instrument names (unique within a book). */
export const byInstrument = (x: { instrument: string }, y: { instrument: string }) =>
  x.instrument < y.instrument ? -1 : x.instrument > y.instrument ? 1 : 0;

/**
 * Sorts in place by `compare`: by insertion up to 16 items (a book's few positions, without the
 * buffers `Array.prototype.sort` allocates), else with `sort`.
 */
export function sortSmall<T>(items: T[], compare: (x: T, y: T) => number): T[] {
  if (items.length > 16) return items.sort(compare);
  for (let a = 1; a < items.length; a++) {
    const item = items[a] as T;
    let b = a;
    while (b > 0 && compare(items[b - 1] as T, item) > 0) {
      items[b] = items[b - 1] as T;
      b--;
    }
    items[b] = item;
  }
  return items;
}

/** Items with an instrument name (unique within a book), sorted by it in code-unit order. */
export function inInstrumentOrder<T extends { instrument: string }>(items: readonly T[]): T[] {
  return [...items].sort(byInstrument);
}

/**
 * Equity, IM and MM of one account under one market: the kernel every other computation (status,
 * liquidation prices, stress, trigger bands) calls. Standard model (§3.3) or portfolio model (§3.4).
 */
export function accountRisk(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  explain = false,
): AccountRisk {
  const portfolioMode = book.marginMode === "portfolio";
  const gridAssets = portfolioMode ? new Set(book.positions.map((p) => p.underlying)) : undefined;

  let collateralValue = ZERO;
  const collateral: CollateralLine[] | undefined = explain ? [] : undefined;
  for (const balance of book.collateral) {
    if (balance.amount.isZero()) continue;
    const index = market.quotes.get(balance.asset)?.index ?? ZERO;
    const line = collateralLine(balance, index, params, gridAssets?.has(balance.asset) ?? false, explain);
    collateralValue = collateralValue.plus(line.counted);
    collateral?.push(line);
  }

  let unrealizedPnl = ZERO;
  let optionValue = ZERO;
  let initialMargin = ZERO;
  let maintenanceMargin = ZERO;
  const positions: PositionFigures[] = book.positions.map((position) => {
    const mark = underlyingMark(market, position.underlying);
    return position.kind === "linear"
      ? linearFigures(position, mark, params.brackets.get(position.underlying) ?? [], explain)
      : optionFigures(position, mark, market, params, explain);
  });
  // Summed in instrument order, not the input's: a non-terminating IM quotient carries 50
  // significant digits, so sums of them can round, and the total must not depend on the listing.
  for (const figures of inInstrumentOrder(positions)) {
    unrealizedPnl = unrealizedPnl.plus(figures.unrealizedPnl);
    optionValue = optionValue.plus(figures.value);
    initialMargin = initialMargin.plus(figures.initialMargin);
    maintenanceMargin = maintenanceMargin.plus(figures.maintenanceMargin);
  }

  let portfolio: UnderlyingRisk[] | undefined;
  if (portfolioMode) {
    const result = portfolioMargin(book, market, params, explain);
    initialMargin = result.initialMargin;
    maintenanceMargin = result.maintenanceMargin;
    for (const figures of positions) {
      const standalone = result.positionMaintenance.get(figures.instrument) ?? ZERO;
      figures.maintenanceMargin = standalone;
      figures.initialMargin = divideDown(standalone, params.portfolio.mmFactor);
    }
    portfolio = result.underlyings;
  }

  const risk: AccountRisk = {
    collateralValue,
    unrealizedPnl,
    optionValue,
    equity: collateralValue.plus(unrealizedPnl).plus(optionValue),
    initialMargin,
    maintenanceMargin,
    positions,
  };
  if (collateral) risk.collateral = collateral;
  if (portfolio) risk.portfolio = portfolio;
  return risk;
}
