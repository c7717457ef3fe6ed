import type { AccountResult, EvaluationOutput } from "@backing/contracts";
import {
  type AccountRisk,
  type AccountStatus,
  accountRisk,
  callAmount,
  marginRatio,
  statusOf,
} from "./account.ts";
import type { AccountBook, Market } from "./book.ts";
import { Decimal, neutralString, requirementString, valueString, ZERO } from "./decimal.ts";
import {
  ClosedFormSolution,
  FixedAccountEvaluation,
  FixedLinearFigures,
  FixedOptionFigures,
  fixedEvaluation,
  totalsText,
} from "./fixed-evaluation.ts";
import { type LiquidationSolution, liquidationPrice } from "./liquidation.ts";
import type { RiskParams } from "./params.ts";
import type { Portfolio } from "./portfolio-input.ts";

export interface AccountEvaluation {
  book: AccountBook;
  risk: AccountRisk;
  status: AccountStatus;
  marginRatio: Decimal | null;
  callAmount: Decimal;
  /** Per underlying of the account's perps and futures. */
  liquidation: Map<string, LiquidationSolution>;
}

export interface EvaluateOptions {
  explain?: boolean;
}

/**
 * An account's status, figures and liquidation prices. On the kernel's fixed-point book
 * (`fixedEvaluation`) unless the trace is wanted or the book needs the Decimal path.
 */
export function evaluateAccount(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  options: EvaluateOptions = {},
): AccountEvaluation {
  if (!options.explain) {
    const fixed = fixedEvaluation(book, market, params);
    if (fixed) return fixed;
  }
  return decimalEvaluation(book, market, params, options);
}

/** The Decimal path of `evaluateAccount`: every figure a Decimal, and the explain trace. */
export function decimalEvaluation(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  options: EvaluateOptions = {},
): AccountEvaluation {
  const explain = options.explain ?? false;
  const risk = accountRisk(book, market, params, explain);
  const liquidation = new Map<string, LiquidationSolution>();
  const excess = risk.equity.minus(risk.maintenanceMargin);
  // Standard model: each underlying's share of equity − MM at the mark, from the figures above.
  const sliceAtMark = new Map<string, Decimal>();
  if (book.marginMode === "standard") {
    for (const [i, position] of book.positions.entries()) {
      const f = risk.positions[i];
      if (!f) continue;
      const share = f.unrealizedPnl.plus(f.value).minus(f.maintenanceMargin);
      sliceAtMark.set(position.underlying, (sliceAtMark.get(position.underlying) ?? ZERO).plus(share));
    }
  }
  for (const position of book.positions) {
    if (position.kind === "linear" && !position.size.isZero() && !liquidation.has(position.underlying)) {
      const solution = liquidationPrice(
        book,
        market,
        params,
        position.underlying,
        explain,
        excess,
        sliceAtMark.get(position.underlying),
      );
      liquidation.set(position.underlying, solution);
    }
  }
  return {
    book,
    risk,
    status: statusOf(risk.equity, risk.initialMargin, risk.maintenanceMargin, params.status.warningBuffer),
    marginRatio: marginRatio(risk.equity, risk.maintenanceMargin),
    callAmount: callAmount(risk.equity, risk.initialMargin),
    liquidation,
  };
}

/**
 * A liquidation price is rounded toward the mark: up for an account liquidated when the price
 * falls, down when it rises, so the printed level is never past the true one.
 */
export function liquidationString(solution: LiquidationSolution | undefined): string | null {
  if (solution instanceof ClosedFormSolution) return solution.text();
  if (!solution?.price) return null;
  const mode = solution.direction === -1 ? Decimal.ROUND_FLOOR : Decimal.ROUND_CEIL;
  return solution.price.toDecimalPlaces(8, mode).toFixed();
}

/** Decimals in the explain trace print as exact strings, floats (model values) as numbers. */
function toJsonValue(value: unknown): unknown {
  if (Decimal.isDecimal(value)) return (value as Decimal).toFixed();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, toJsonValue(v)]));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  }
  return value;
}

export function accountResult(
  evaluation: AccountEvaluation,
  params: RiskParams,
  explain = false,
): AccountResult {
  const { book, risk } = evaluation;
  const totals = evaluation instanceof FixedAccountEvaluation ? evaluation.text() : totalsText(evaluation);
  const liquidationPrices = new Map<string, string | null>();
  const liquidationText = (underlying: string) => {
    let text = liquidationPrices.get(underlying);
    if (text === undefined) {
      text = liquidationString(evaluation.liquidation.get(underlying));
      liquidationPrices.set(underlying, text);
    }
    return text;
  };
  const result: AccountResult = {
    id: book.id,
    venue: book.venue,
    status: evaluation.status,
    ...totals,
    positions: risk.positions.map((figures, i) => {
      const position = book.positions[i];
      const text =
        figures instanceof FixedLinearFigures || figures instanceof FixedOptionFigures
          ? figures.text()
          : {
              notional: neutralString(figures.notional),
              unrealizedPnl: valueString(figures.unrealizedPnl),
              funding:
                position?.kind === "linear" && position.type === "perp"
                  ? valueString(position.funding)
                  : undefined,
              initialMargin: requirementString(figures.initialMargin),
              maintenanceMargin: requirementString(figures.maintenanceMargin),
            };
      return {
        instrument: figures.instrument,
        notional: text.notional,
        unrealizedPnl: text.unrealizedPnl,
        ...(text.funding === undefined ? {} : { funding: text.funding }),
        initialMargin: text.initialMargin,
        maintenanceMargin: text.maintenanceMargin,
        liquidationPrice: position?.kind === "linear" ? liquidationText(position.underlying) : null,
        ...(position?.kind === "option"
          ? { value: "value" in text ? text.value : valueString(figures.value) }
          : {}),
      };
    }),
  };
  if (explain) {
    const { warningBuffer } = params.status;
    result.explain = toJsonValue({
      marginMode: book.marginMode,
      collateral: risk.collateral,
      positions: risk.positions.map((p) => ({ instrument: p.instrument, ...p.explain })),
      portfolio: risk.portfolio,
      totals: {
        equity: "collateralValue + unrealizedPnl + optionValue",
        exactEquity: risk.equity,
        exactInitialMargin: risk.initialMargin,
        exactMaintenanceMargin: risk.maintenanceMargin,
      },
      thresholds: {
        liquidationBelow: risk.maintenanceMargin,
        marginCallBelow: risk.initialMargin,
        warningBelow: risk.initialMargin.times(warningBuffer.plus(1)),
        warningBuffer,
      },
      liquidation: evaluation.liquidation,
    });
  }
  return result;
}

/** Every account of a portfolio, one at a time, so a caller can stream 100,000 of them. */
export function* evaluatePortfolioAccounts(
  portfolio: Portfolio,
  options: EvaluateOptions = {},
): Generator<AccountResult> {
  for (const book of portfolio.accounts) {
    const evaluation = evaluateAccount(book, portfolio.market, portfolio.params, options);
    yield accountResult(evaluation, portfolio.params, options.explain);
  }
}

export function evaluatePortfolio(portfolio: Portfolio, options: EvaluateOptions = {}): EvaluationOutput {
  return {
    asOf: portfolio.asOf,
    paramsVersion: portfolio.params.version,
    accounts: [...evaluatePortfolioAccounts(portfolio, options)],
  };
}
