import { type Black76Result, black76, black76Price } from "./black76.ts";
import { type LinearPosition, type Market, MS_PER_YEAR, type OptionPosition, quoteOf } from "./book.ts";
import { type Decimal, decimalFloat, divideDown, dmax, fromModelFloat, ONE, ZERO } from "./decimal.ts";
import type { Bracket, HaircutTier, RiskParams } from "./params.ts";

export interface HaircutSlice {
  from: Decimal;
  to: Decimal;
  haircut: Decimal;
  counted: Decimal;
}

export interface CollateralLine {
  asset: string;
  amount: Decimal;
  index: Decimal;
  /** amount × index */
  usdValue: Decimal;
  /** What counts toward equity. */
  counted: Decimal;
  /** Positive balances: the tier slices. Loans: none (the surcharge applies instead). */
  slices?: HaircutSlice[];
}

/**
 * A positive balance's USD value is cut into haircut tiers like tax brackets; a loan counts
 * amount × index × (1 + liabilitySurcharge).
 */
export function valueBalance(
  asset: string,
  amount: Decimal,
  index: Decimal,
  tiers: readonly HaircutTier[],
  liabilitySurcharge: Decimal,
  explain: boolean,
): CollateralLine {
  const usdValue = amount.times(index);
  if (usdValue.isNegative()) {
    return { asset, amount, index, usdValue, counted: usdValue.times(ONE.plus(liabilitySurcharge)) };
  }
  let counted = ZERO;
  const slices: HaircutSlice[] | undefined = explain ? [] : undefined;
  for (const tier of tiers) {
    if (usdValue.lte(tier.from)) break;
    const to = tier.upTo && usdValue.gt(tier.upTo) ? tier.upTo : usdValue;
    const slice = to.minus(tier.from);
    const sliceCounted = tier.haircut.isZero() ? slice : slice.times(tier.weight);
    counted = counted.plus(sliceCounted);
    slices?.push({ from: tier.from, to, haircut: tier.haircut, counted: sliceCounted });
  }
  return slices
    ? { asset, amount, index, usdValue, counted, slices }
    : { asset, amount, index, usdValue, counted };
}

/** The first bracket whose cap ≥ notional; past the last cap the last bracket applies. */
export function bracketFor(brackets: readonly Bracket[], notional: Decimal): Bracket {
  for (const bracket of brackets) if (notional.lte(bracket.notionalCap)) return bracket;
  const last = brackets[brackets.length - 1];
  if (!last) throw new Error("empty bracket list");
  return last;
}

export interface PositionFigures {
  instrument: string;
  notional: Decimal;
  unrealizedPnl: Decimal;
  /** Option value size × markPrice (zero for linear positions). */
  value: Decimal;
  initialMargin: Decimal;
  maintenanceMargin: Decimal;
  explain?: Record<string, unknown>;
}

/**
 * Linear, USD-settled perp or future: notional = |size| × mark; uPnL = size × (mark − entry) +
 * funding; IM = notional / maxLeverage; MM = notional × mmr − cum of the position's bracket.
 */
export function linearFigures(
  position: LinearPosition,
  mark: Decimal,
  brackets: readonly Bracket[],
  explain: boolean,
): PositionFigures {
  const notional = position.size.abs().times(mark);
  const unrealizedPnl = position.size.times(mark.minus(position.entryPrice)).plus(position.funding);
  const bracket = bracketFor(brackets, notional);
  const initialMargin = divideDown(notional, bracket.maxLeverage);
  // Non-negative: mmr never falls from one bracket to the next (checked by the params schema).
  const maintenanceMargin = notional.times(bracket.mmr).minus(bracket.cum);
  const figures: PositionFigures = {
    instrument: position.instrument,
    notional,
    unrealizedPnl,
    value: ZERO,
    initialMargin,
    maintenanceMargin,
  };
  if (explain) {
    figures.explain = {
      type: position.type,
      underlying: position.underlying,
      size: position.size,
      mark,
      entryPrice: position.entryPrice,
      funding: position.funding,
      ...(position.settlement
        ? {
            fundingSettlement: {
              ...position.settlement,
              rule: "funding = accrued + unsettled; unsettled = −size × (cumulative − fundingIndex)",
            },
          }
        : {}),
      bracket: {
        number: bracket.index + 1,
        floor: bracket.floor,
        notionalCap: bracket.notionalCap,
        maxLeverage: bracket.maxLeverage,
        mmr: bracket.mmr,
        cum: bracket.cum,
        beyondLastCap: notional.gt(bracket.notionalCap),
      },
    };
  }
  return figures;
}

export function yearsToExpiry(position: OptionPosition, asOfMs: number): number {
  return (position.expiryMs - asOfMs) / MS_PER_YEAR;
}

export interface OptionMark {
  markPrice: Decimal;
  source: "given" | "black76";
  model?: Black76Result & { forward: number; years: number; vol: number };
}

/** The option's USD mark: the given markPrice, else Black-76 with F = underlying mark, r = 0. */
/** The Black-76 price alone (no greeks) of an option at the underlying's mark, as a float. */
export function modelPrice(position: OptionPosition, underlyingMark: Decimal, market: Market, vol: number) {
  return black76Price(
    position.optionType,
    decimalFloat(underlyingMark),
    decimalFloat(position.strike),
    yearsToExpiry(position, market.asOfMs),
    vol,
  );
}

export function markOption(
  position: OptionPosition,
  underlyingMark: Decimal,
  market: Market,
  withModel = false,
): OptionMark {
  // A given markPrice needs no model unless the explain trace asks for the greeks.
  if (position.markPrice && !withModel) return { markPrice: position.markPrice, source: "given" };
  const vol = market.vols.get(position.underlying);
  if (!position.markPrice && !withModel && vol !== undefined) {
    // The hot path (every evaluation, every liquidation trial): the price alone, no greeks.
    return {
      markPrice: fromModelFloat(modelPrice(position, underlyingMark, market, vol)),
      source: "black76",
    };
  }
  const years = yearsToExpiry(position, market.asOfMs);
  const forward = decimalFloat(underlyingMark);
  const model =
    vol === undefined
      ? undefined
      : {
          ...black76({
            type: position.optionType,
            forward,
            strike: decimalFloat(position.strike),
            years,
            vol,
          }),
          forward,
          years,
          vol,
        };
  if (position.markPrice)
    return model
      ? { markPrice: position.markPrice, source: "given", model }
      : { markPrice: position.markPrice, source: "given" };
  // parsePortfolio guarantees a volatility for options without a markPrice.
  if (!model) throw new Error(`no volatility for ${position.underlying}`);
  return { markPrice: fromModelFloat(model.price), source: "black76", model };
}

/**
 * Value = size × markPrice. Long options: IM = MM = 0 (premium paid). Short, per unit, with
 * S = underlying mark and OTM = max(K − S, 0) for calls, max(S − K, 0) for puts (Deribit):
 *   call: IM = max(base·S − OTM, floor·S) + mark,  MM = maint·S + mark
 *   put:  MM = max(maint·S, maint·mark) + mark,    IM = max(max(base·S − OTM, floor·S) + mark, MM)
 * multiplied by |size|.
 */
export function optionFigures(
  position: OptionPosition,
  underlyingMark: Decimal,
  market: Market,
  params: RiskParams,
  explain: boolean,
): PositionFigures {
  const S = underlyingMark;
  const mark = markOption(position, S, market, explain);
  const markPrice = mark.markPrice;
  const units = position.size.abs();
  const value = position.size.times(markPrice);
  let initialMargin = ZERO;
  let maintenanceMargin = ZERO;
  if (position.size.isNegative()) {
    const { shortInitialBase, shortInitialFloor, shortMaintenance } = params.options;
    const otm =
      position.optionType === "call"
        ? dmax(position.strike.minus(S), ZERO)
        : dmax(S.minus(position.strike), ZERO);
    const initialPerUnit = dmax(shortInitialBase.times(S).minus(otm), shortInitialFloor.times(S)).plus(
      markPrice,
    );
    if (position.optionType === "call") {
      maintenanceMargin = shortMaintenance.times(S).plus(markPrice).times(units);
      initialMargin = initialPerUnit.times(units);
    } else {
      const maintenancePerUnit = dmax(shortMaintenance.times(S), shortMaintenance.times(markPrice)).plus(
        markPrice,
      );
      maintenanceMargin = maintenancePerUnit.times(units);
      initialMargin = dmax(initialPerUnit, maintenancePerUnit).times(units);
    }
  }
  const figures: PositionFigures = {
    instrument: position.instrument,
    notional: units.times(S),
    unrealizedPnl: ZERO,
    value,
    initialMargin,
    maintenanceMargin,
  };
  if (explain) {
    figures.explain = {
      type: "option",
      underlying: position.underlying,
      optionType: position.optionType,
      size: position.size,
      strike: position.strike,
      underlyingMark: S,
      markPrice,
      markSource: mark.source,
      ...(mark.model
        ? {
            black76: {
              forward: mark.model.forward,
              years: mark.model.years,
              vol: mark.model.vol,
              price: mark.model.price,
              delta: mark.model.delta,
              gamma: mark.model.gamma,
              vega: mark.model.vega,
              theta: mark.model.theta,
            },
          }
        : {}),
    };
  }
  return figures;
}

export function underlyingMark(market: Market, asset: string): Decimal {
  return quoteOf(market, asset).mark;
}
