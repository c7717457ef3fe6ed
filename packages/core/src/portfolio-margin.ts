import { black76Price, impliedVol } from "./black76.ts";
import type { AccountBook, Market, OptionPosition } from "./book.ts";
import { type Decimal, divideDown, dmax, dmin, fromModelFloat, ZERO } from "./decimal.ts";
import { markOption, underlyingMark, yearsToExpiry } from "./margin.ts";
import type { RiskParams } from "./params.ts";

export type VolShift = "up" | "same" | "down";
const VOL_SHIFTS: readonly VolShift[] = ["up", "same", "down"];

export interface PortfolioScenario {
  move: Decimal;
  vol: VolShift;
  pnl: Decimal;
}

export interface UnderlyingRisk {
  underlying: string;
  mark: Decimal;
  /** Σ size × mark of linear positions + amount × index of collateral held in the underlying. */
  linearExposure: Decimal;
  worstLoss: Decimal;
  netShortOptionUnits: Decimal;
  contingency: Decimal;
  scenarios?: PortfolioScenario[];
}

export interface PortfolioMarginResult {
  maintenanceMargin: Decimal;
  initialMargin: Decimal;
  underlyings: UnderlyingRisk[];
  /** Standalone grid loss (+ contingency) per position: informative, it ignores netting. */
  positionMaintenance: Map<string, Decimal>;
}

/** The price moves of the grid: ±priceRange split into 2 × buckets + 1 evenly spaced points. */
export function gridMoves(params: RiskParams): Decimal[] {
  const { priceRange, buckets } = params.portfolio;
  const step = priceRange.div(buckets);
  return Array.from({ length: 2 * buckets + 1 }, (_, i) => step.times(i - buckets));
}

interface OptionModel {
  position: OptionPosition;
  size: number;
  forward: number;
  strike: number;
  years: number;
  vol: number;
  base: number;
  /** PnL over the grid, move-major: index = move × 3 + vol shift (up, same, down). */
  pnls: Float64Array;
}

function optionModel(position: OptionPosition, market: Market): OptionModel {
  const S = underlyingMark(market, position.underlying);
  const forward = S.toNumber();
  const strike = position.strike.toNumber();
  const years = yearsToExpiry(position, market.asOfMs);
  // A given markPrice without a volatility implies one, so the grid revalues around the mark.
  const vol =
    market.vols.get(position.underlying) ??
    impliedVol(
      position.optionType,
      forward,
      strike,
      years,
      markOption(position, S, market).markPrice.toNumber(),
    ) ??
    0;
  const base = black76Price(position.optionType, forward, strike, years, vol);
  return {
    position,
    size: position.size.toNumber(),
    forward,
    strike,
    years,
    vol,
    base,
    pnls: new Float64Array(0),
  };
}

function shiftedVol(vol: number, shift: VolShift, params: RiskParams): number {
  if (shift === "up") return vol * (1 + params.portfolio.volUp);
  if (shift === "down") return vol * (1 - params.portfolio.volDown);
  return vol;
}

/** Float PnL of one option over one scenario: the model maths side of the grid. */
function optionPnl(model: OptionModel, move: number, shift: VolShift, params: RiskParams): number {
  const price = black76Price(
    model.position.optionType,
    model.forward * (1 + move),
    model.strike,
    model.years,
    shiftedVol(model.vol, shift, params),
  );
  return model.size * (price - model.base);
}

/**
 * Portfolio margin (DESIGN §3.4). Per underlying, every position and the collateral held in it are
 * revalued over price moves × vol shifts {up, same, down}; MM = Σ max(0, −worst PnL) plus
 * contingency × S per net short option unit; IM = MM / mmFactor.
 *
 * Exactness: linear PnL is exact (exposure × move). Option PnL is float64 (Black-76); for each
 * price move the worst vol shift is chosen in float, and that option PnL enters Decimal once
 * through `fromModelFloat`.
 */
export function portfolioMargin(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  explain: boolean,
): PortfolioMarginResult {
  const moves = gridMoves(params);
  const moveNumbers = moves.map((m) => m.toNumber());
  const byUnderlying = new Map<
    string,
    { exposure: Decimal; options: OptionModel[]; netOptionUnits: Decimal }
  >();
  const positionMaintenance = new Map<string, Decimal>();
  const { priceRange, contingency, mmFactor } = params.portfolio;

  for (const position of book.positions) {
    let entry = byUnderlying.get(position.underlying);
    if (!entry) {
      entry = { exposure: ZERO, options: [], netOptionUnits: ZERO };
      byUnderlying.set(position.underlying, entry);
    }
    const mark = underlyingMark(market, position.underlying);
    if (position.kind === "linear") {
      const exposure = position.size.times(mark);
      entry.exposure = entry.exposure.plus(exposure);
      positionMaintenance.set(position.instrument, exposure.abs().times(priceRange));
    } else {
      const model = optionModel(position, market);
      // Each grid point priced once: the standalone worst case and the underlying's sums share it.
      model.pnls = Float64Array.from(
        moveNumbers.flatMap((move) => VOL_SHIFTS.map((shift) => optionPnl(model, move, shift, params))),
      );
      entry.options.push(model);
      entry.netOptionUnits = entry.netOptionUnits.plus(position.size);
      const worst = Math.min(0, ...model.pnls);
      const shortCharge = position.size.isNegative()
        ? contingency.times(mark).times(position.size.abs())
        : ZERO;
      positionMaintenance.set(position.instrument, fromModelFloat(-worst).plus(shortCharge));
    }
  }
  for (const balance of book.collateral) {
    const entry = byUnderlying.get(balance.asset);
    if (entry)
      entry.exposure = entry.exposure.plus(
        balance.amount.times(market.quotes.get(balance.asset)?.index ?? ZERO),
      );
  }

  let maintenanceMargin = ZERO;
  const underlyings: UnderlyingRisk[] = [];
  for (const [underlying, entry] of byUnderlying) {
    const scenarios: PortfolioScenario[] | undefined = explain ? [] : undefined;
    let worstPnl: Decimal | undefined;
    moves.forEach((move, i) => {
      let worstOptions = Number.POSITIVE_INFINITY;
      VOL_SHIFTS.forEach((shift, v) => {
        let optionsPnl = 0;
        for (const model of entry.options) optionsPnl += model.pnls[i * VOL_SHIFTS.length + v] ?? 0;
        if (optionsPnl < worstOptions) worstOptions = optionsPnl;
        scenarios?.push({
          move,
          vol: shift,
          pnl: entry.exposure.times(move).plus(fromModelFloat(optionsPnl)),
        });
      });
      const pnl = entry.exposure.times(move).plus(fromModelFloat(worstOptions));
      worstPnl = worstPnl ? dmin(worstPnl, pnl) : pnl;
    });
    const mark = underlyingMark(market, underlying);
    const worstLoss = dmax(ZERO, (worstPnl ?? ZERO).neg());
    const netShortOptionUnits = dmax(ZERO, entry.netOptionUnits.neg());
    const charge = contingency.times(mark).times(netShortOptionUnits);
    maintenanceMargin = maintenanceMargin.plus(worstLoss).plus(charge);
    const risk: UnderlyingRisk = {
      underlying,
      mark,
      linearExposure: entry.exposure,
      worstLoss,
      netShortOptionUnits,
      contingency: charge,
    };
    if (scenarios) risk.scenarios = scenarios;
    underlyings.push(risk);
  }
  return {
    maintenanceMargin,
    initialMargin: divideDown(maintenanceMargin, mmFactor),
    underlyings,
    positionMaintenance,
  };
}
