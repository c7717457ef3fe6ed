import type { CascadePricing, Scenario, ScenarioPack, StressReport } from "@backing/contracts";
import type { AccountStatus } from "./account.ts";
import { LST_REFERENCE } from "./asset-classes.ts";
import { black76Price, impliedVol } from "./black76.ts";
import type { AccountBook, Market, Quote } from "./book.ts";
import {
  Decimal,
  decimalFloat,
  fromModelFloat,
  neutralString,
  ONE,
  WIDE_ZERO,
  Wide,
  ZERO,
} from "./decimal.ts";
import { type BookWalk, type DepthBooks, walkBook } from "./depth.ts";
import {
  type CompiledBook,
  compileBook,
  type FixedQuote,
  fixedEquityAndMaintenance,
  fixedLinearTotals,
  fixedMarket,
  floatLinearDistance,
  fromFixed,
  marginTotals,
  toFixed18,
} from "./kernel.ts";
import { yearsToExpiry } from "./margin.ts";
import type { RiskParams } from "./params.ts";
import {
  formatScaled,
  type ScaledTotals,
  scaledFromFloat,
  scaledStatus,
  scaledTotals,
  toScaled,
} from "./scaled.ts";
import { liquidationSettings } from "./venue-liquidation.ts";

/** A price never falls below this share of its level, however severe the scenario (k up to 5). */
const PRICE_FLOOR = new Decimal("0.0001");
const MIN_VOL = 0.01;

export interface StressSettings {
  insuranceFund: Decimal;
  impact: ReadonlyMap<string, { Y: number; dailyVol: number; dailyVolume: number }>;
  maxCascadeRounds: number;
  /** The venue's books by asset (DESIGN §3.11): a cascade walks them; other assets keep the model. */
  depth: DepthBooks;
}

export function stressSettings(params: RiskParams, depth: DepthBooks = new Map()): StressSettings {
  const stress = params.document.stress;
  return {
    insuranceFund: new Decimal(stress?.insuranceFund ?? "0"),
    impact: new Map(
      Object.entries(stress?.impact ?? {}).map(([asset, i]) => [
        asset,
        { Y: Number(i.Y), dailyVol: Number(i.dailyVol), dailyVolume: Number(i.dailyVolume) },
      ]),
    ),
    maxCascadeRounds: stress?.maxCascadeRounds ?? 20,
    depth,
  };
}

const scaleQuote = (quote: Quote, factor: Decimal): Quote => ({
  index: quote.index.times(factor),
  mark: quote.mark.times(factor),
});

/**
 * The market after `scenario` at severity k: relative price moves × k (a `beta` scales the BTC
 * move), stablecoin pegs moved k times their deviation from 1, LST pegs as ratios to their shocked
 * reference asset (without a peg an LST keeps its ratio), vols shifted by k × the absolute shift.
 * Index and mark move together.
 */
export function shockMarket(market: Market, scenario: Scenario, k: Decimal): Market {
  const quotes = new Map<string, Quote>();
  const btcMove = scenario.shocks.BTC?.price;
  const moveOf = (asset: string): Decimal | null => {
    const shock = scenario.shocks[asset];
    if (shock?.price !== undefined) return new Decimal(shock.price);
    if (shock?.beta !== undefined && btcMove !== undefined) return new Decimal(shock.beta).times(btcMove);
    return null;
  };
  const factorFor = (asset: string): Decimal => {
    const move = moveOf(asset);
    if (!move) return ONE;
    const factor = ONE.plus(move.times(k));
    return factor.lt(PRICE_FLOOR) ? PRICE_FLOOR : factor;
  };
  for (const [asset, quote] of market.quotes) {
    const peg = scenario.pegs[asset];
    const reference = LST_REFERENCE[asset];
    if (reference && market.quotes.has(reference)) {
      const referenceFactor = factorFor(reference);
      if (peg === undefined) {
        quotes.set(asset, scaleQuote(quote, referenceFactor));
      } else {
        const ratio = ONE.plus(new Decimal(peg).minus(1).times(k));
        const level = (market.quotes.get(reference) as Quote).index
          .times(referenceFactor)
          .times(Decimal.max(ratio, PRICE_FLOOR));
        quotes.set(asset, scaleQuote(quote, quote.index.isZero() ? ONE : level.div(quote.index)));
      }
    } else if (peg !== undefined) {
      const level = Decimal.max(ONE.plus(new Decimal(peg).minus(1).times(k)), PRICE_FLOOR);
      quotes.set(asset, scaleQuote(quote, quote.index.isZero() ? ONE : level.div(quote.index)));
    } else {
      quotes.set(asset, scaleQuote(quote, factorFor(asset)));
    }
  }
  const vols = new Map(market.vols);
  for (const [asset, shock] of Object.entries(scenario.shocks)) {
    const base = market.vols.get(asset);
    if (shock.vol !== undefined && base !== undefined)
      vols.set(asset, Math.max(MIN_VOL, base + Number(shock.vol) * k.toNumber()));
  }
  return { ...market, quotes, vols };
}

/** What an option needs to be re-marked in every pass: its base implied vol and time to expiry. */
interface OptionModel {
  type: "call" | "put";
  size: number;
  strike: number;
  years: number;
  vol: number;
  underlying: string;
}

/**
 * What stress derives from a book once and reuses across scenarios and rounds, behind one lookup
 * (an evaluation and a screen of every account in every pass read it).
 */
interface StressView {
  book: AccountBook;
  /** Its perps, futures and collateral: the part the kernel compiles. */
  linear?: AccountBook;
  /** That part compiled by the kernel, for the params it was compiled with. */
  compiled?: CompiledBook;
  /** Its options as float models (at the base market's expiry times and vols). */
  models?: OptionModel[];
  /** Bounds on how fast equity − MM moves with each asset's index and mark. */
  sensitivity?: Sensitivity[];
  perps?: PerpSizes;
  /** Its perps and futures as a cascade closes them: underlying and size, at scale 18 where it fits. */
  closing?: { underlying: string; size: Decimal; size18: bigint | null }[];
}
const stressViews = new WeakMap<AccountBook, StressView>();
function viewOf(book: AccountBook): StressView {
  let view = stressViews.get(book);
  if (!view) {
    view = { book };
    stressViews.set(book, view);
  }
  return view;
}

function optionModelsOf(view: StressView, base: Market): OptionModel[] {
  const { book } = view;
  let models = view.models;
  if (!models) {
    models = book.positions.flatMap((p) => {
      if (p.kind !== "option") return [];
      const years = yearsToExpiry(p, base.asOfMs);
      const forward = decimalFloat((base.quotes.get(p.underlying) as Quote).mark);
      const strike = decimalFloat(p.strike);
      // An option given only a markPrice is revalued around its implied vol.
      const vol =
        base.vols.get(p.underlying) ??
        (p.markPrice
          ? impliedVol(p.optionType, forward, strike, years, decimalFloat(p.markPrice))
          : undefined) ??
        MIN_VOL;
      return [
        { type: p.optionType, size: decimalFloat(p.size), strike, years, vol, underlying: p.underlying },
      ];
    });
    view.models = models;
  }
  return models;
}

/**
 * The options of an account under a stressed market, in float64 (`optionFloats`): Black-76 at the
 * stressed underlying and shifted vol, value = size × mark, and the short-option IM/MM of §3.3.
 * This is the stress engine's one float → exact boundary: the three sums enter (as 15 significant
 * digits, like `fromModelFloat`) once per account, added to `totals`.
 */
function addOptionsUnderStress(totals: ScaledTotals, models: OptionModel[], at: StressPricing): void {
  const { value, initial, maintenance } = optionFloats(models, at, OPTION_SCRATCH);
  totals.equity += scaledFromFloat(value);
  totals.initial += scaledFromFloat(initial);
  totals.maintenance += scaledFromFloat(maintenance);
}

/** Scratch results of the per-account float sums (filled and read at once, never kept). */
const OPTION_SCRATCH = { value: 0, initial: 0, maintenance: 0 };
const LINEAR_SCRATCH = { equity: 0, maintenance: 0, magnitude: 0 };

/** The float sums of `addOptionsUnderStress`, before they enter exact money, written to `into`. */
function optionFloats(
  models: OptionModel[],
  at: StressPricing,
  into: typeof OPTION_SCRATCH,
): typeof OPTION_SCRATCH {
  const { base: b, floor: f, maintenance: m } = at.optionRates;
  const { floats: quotes, volShift } = at;
  let value = 0;
  let initial = 0;
  let maintenance = 0;
  for (const o of models) {
    const S = (quotes.get(o.underlying) as { mark: number }).mark;
    const mark = black76Price(
      o.type,
      S,
      o.strike,
      o.years,
      Math.max(MIN_VOL, o.vol + volShift(o.underlying)),
    );
    value += o.size * mark;
    if (o.size >= 0) continue;
    const units = -o.size;
    const otm = o.type === "call" ? Math.max(o.strike - S, 0) : Math.max(S - o.strike, 0);
    const initialPerUnit = Math.max(b * S - otm, f * S) + mark;
    const maintenancePerUnit = o.type === "call" ? m * S + mark : Math.max(m * S, m * mark) + mark;
    initial += units * (o.type === "call" ? initialPerUnit : Math.max(initialPerUnit, maintenancePerUnit));
    maintenance += units * maintenancePerUnit;
  }
  into.value = value;
  into.initial = initial;
  into.maintenance = maintenance;
  return into;
}

/** The short-option margin rates of §3.3 as floats, once per params. */
const optionParametersOf = new WeakMap<RiskParams, { base: number; floor: number; maintenance: number }>();
function optionParameters(params: RiskParams) {
  let rates = optionParametersOf.get(params);
  if (!rates) {
    const { shortInitialBase, shortInitialFloor, shortMaintenance } = params.options;
    rates = {
      base: shortInitialBase.toNumber(),
      floor: shortInitialFloor.toNumber(),
      maintenance: shortMaintenance.toNumber(),
    };
    optionParametersOf.set(params, rates);
  }
  return rates;
}

type FloatQuotes = ReadonlyMap<string, { index: number; mark: number }>;

/** A market's index and mark prices as floats, once per market. */
const floatQuotesOf = new WeakMap<Market, FloatQuotes>();
function floatQuotes(market: Market): FloatQuotes {
  let quotes = floatQuotesOf.get(market);
  if (!quotes) {
    quotes = new Map(
      [...market.quotes].map(([asset, q]) => [asset, { index: q.index.toNumber(), mark: q.mark.toNumber() }]),
    );
    floatQuotesOf.set(market, quotes);
  }
  return quotes;
}

/**
 * What every evaluation and screen at one set of stressed prices reads, converted once per
 * scenario and cascade round rather than looked up per account.
 */
interface StressPricing {
  /** The unstressed market: the options' expiry times and vols. */
  base: Market;
  market: Market;
  /** Its prices at scale 18, or null when one does not fit the kernel's fixed point. */
  fixed: ReadonlyMap<string, FixedQuote> | null;
  floats: FloatQuotes;
  params: RiskParams;
  optionRates: { base: number; floor: number; maintenance: number };
  volShift: (asset: string) => number;
  /** The params' warning buffer at scale 54, and as a float. */
  warning54: bigint;
  warningFloat: number;
}

interface Sensitivity {
  asset: string;
  index: number;
  mark: number;
}

/**
 * An upper bound on how much a standard-model account's equity − MM changes per unit move of
 * each asset's index (collateral) and mark (positions), everything else fixed (float, 1 % padded):
 * - a balance counts at most its USD value (haircut weights ≤ 1), a loan × (1 + surcharge);
 * - a perp or future: uPnL moves |size| per unit, MM at most |size| × the largest mmr;
 * - an option: its Black-76 value at most |size| (|delta| ≤ 1 at r = 0), a short's MM
 *   (maint × S + mark, or max(maint × S, maint × mark) + mark) at most |size| × (maint + 1).
 */
function sensitivityOf(view: StressView, params: RiskParams): Sensitivity[] {
  const { book } = view;
  if (view.sensitivity) return view.sensitivity;
  const sensitivity = new Map<string, { index: number; mark: number }>();
  const add = (asset: string, index: number, mark: number) => {
    const entry = sensitivity?.get(asset) ?? { index: 0, mark: 0 };
    sensitivity?.set(asset, { index: entry.index + index * 1.01, mark: entry.mark + mark * 1.01 });
  };
  const surcharge = 1 + Math.max(0, params.liabilitySurcharge.toNumber());
  for (const c of book.collateral) add(c.asset, Math.abs(decimalFloat(c.amount)) * surcharge, 0);
  const maintenance = params.options.shortMaintenance.toNumber();
  for (const p of book.positions) {
    const units = Math.abs(decimalFloat(p.size));
    if (p.kind === "linear") {
      const mmr = Math.max(0, ...(params.brackets.get(p.underlying) ?? []).map((b) => b.mmr.toNumber()));
      add(p.underlying, 0, units * (1 + mmr));
    } else add(p.underlying, 0, units * (p.size.isNegative() ? 2 + maintenance : 1));
  }
  view.sensitivity = [...sensitivity].map(([asset, { index, mark }]) => ({ asset, index, mark }));
  return view.sensitivity;
}

/** A shard's forced flow of one asset in a pass (`ScenarioShard.fail`). */
interface ForcedFlow {
  /** Σ size and Σ |size| of the sizes that fit scale 18. */
  size18: bigint;
  gross18: bigint;
  /** The same of the others (Wide, exact). */
  size: Decimal;
  grossSize: Decimal;
}

function closingOf(view: StressView): NonNullable<StressView["closing"]> {
  view.closing ??= view.book.positions.flatMap((p) =>
    p.kind === "linear" && !p.size.isZero()
      ? [{ underlying: p.underlying, size: p.size, size18: toFixed18(p.size) }]
      : [],
  );
  return view.closing;
}

/** One account after a scenario; amounts are exact integers at scale 54 (see scaled.ts). */
export interface AccountOutcome {
  id: string;
  equity: bigint;
  maintenance: bigint;
  status: AccountStatus;
  /** Cascade round in which the account was force-closed (0: not closed). */
  closedInRound: number;
  /** The venue's liquidation fee, already taken from equity (scale 54; DESIGN §3.12). */
  fee: bigint;
}

/** The perps, futures and collateral of a book, compiled once by the kernel across scenarios and rounds. */
function linearPart(view: StressView): AccountBook {
  view.linear ??= { ...view.book, positions: view.book.positions.filter((p) => p.kind === "linear") };
  return view.linear;
}

function compiledLinear(view: StressView, params: RiskParams): CompiledBook {
  if (view.compiled?.params !== params) view.compiled = compileBook(linearPart(view), params, false);
  return view.compiled;
}

/**
 * Equity, MM and status of a book under a stressed market. Standard model: the kernel on the linear
 * part (compiled once per book) plus the options in float, through `standardOutcome` when the
 * kernel holds the book in fixed point; portfolio model: the whole book through the kernel with
 * its options re-marked.
 */
function evaluateAt(
  view: StressView,
  at: StressPricing,
  /** Scale 54, added to equity: the scenario's funding on the book's perps. */
  fundingPnl: bigint,
): AccountOutcome {
  const { book } = view;
  const { base, market, params } = at;
  const models = optionModelsOf(view, base);
  let totals: ScaledTotals;
  if (book.marginMode === "portfolio")
    totals = scaledTotals(marginTotals(remarkForPortfolio(view, base, market, at.volShift), market, params));
  else {
    const compiled = compiledLinear(view, params);
    if (compiled.fixedPoint && at.fixed)
      return standardOutcome(view, compiled, at.fixed, models, at, fundingPnl);
    totals = scaledTotals(marginTotals(linearPart(view), market, params, compiled));
    if (models.length > 0) addOptionsUnderStress(totals, models, at);
  }
  if (fundingPnl !== 0n) totals.equity += fundingPnl;
  return outcomeOf(book, totals.equity, totals.maintenance, scaledStatus(totals, at.warning54));
}

const outcomeOf = (
  book: AccountBook,
  equity: bigint,
  maintenance: bigint,
  status: AccountStatus,
): AccountOutcome => ({ id: book.id, equity, maintenance, status, closedInRound: 0, fee: 0n });

/**
 * A standard-model book the kernel holds in fixed point: equity and MM exact (they are printed),
 * IM in float. The status needs IM only against equity: a float IM (within ~1e-14 of it: each
 * linear term ~1e-16, the options' sum rounded to 15 digits by the exact path) decides it when
 * equity is more than 1e-12 of the magnitudes away from IM and IM × (1 + buffer); next to either
 * line the exact IM is computed and compared in integers.
 */
function standardOutcome(
  view: StressView,
  compiled: CompiledBook,
  quotes: ReadonlyMap<string, FixedQuote>,
  models: OptionModel[],
  at: StressPricing,
  fundingPnl: bigint,
): AccountOutcome {
  const { book } = view;
  const linear = fixedEquityAndMaintenance(compiled, quotes, at.market);
  let equity = linear.collateral54 + linear.pnl54;
  let maintenance = linear.maintenance54;
  let initialFloat = linear.initialFloat;
  let optionsInitial = 0;
  if (models.length > 0) {
    const options = optionFloats(models, at, OPTION_SCRATCH);
    equity += scaledFromFloat(options.value);
    maintenance += scaledFromFloat(options.maintenance);
    optionsInitial = options.initial;
    initialFloat += optionsInitial;
  }
  if (fundingPnl !== 0n) equity += fundingPnl;
  if (equity < maintenance) return outcomeOf(book, equity, maintenance, "LIQUIDATION");
  const equityFloat = Number(equity) / 1e54;
  const warningLine = initialFloat * (1 + at.warningFloat);
  const doubt = 1e-12 * (Math.abs(equityFloat) + warningLine);
  let status: AccountStatus | null = null;
  if (equityFloat < initialFloat - doubt) status = "MARGIN_CALL";
  else if (equityFloat > warningLine + doubt) status = "HEALTHY";
  else if (equityFloat > initialFloat + doubt && equityFloat < warningLine - doubt) status = "WARNING";
  if (status === null) {
    const exact = scaledTotals(fixedLinearTotals(compiled, quotes, at.market, false));
    if (models.length > 0) exact.initial += scaledFromFloat(optionsInitial);
    status = scaledStatus({ ...exact, equity, maintenance }, at.warning54);
  }
  return outcomeOf(book, equity, maintenance, status);
}

/**
 * The float screen of a cascade round: certain bounds on a standard-model book's equity − MM and
 * equity under a stressed market. Equity and MM are estimated in float64 from the kernel's
 * compiled book (`floatLinearDistance`) and the options' float sums, which are what `evaluateAt`
 * turns into exact money. The scenario's funding, at most Σ |perp size| × |per-unit funding|,
 * widens the band, and so does 1e-9 of the magnitude of every term (float rounding is ~1e-15 of
 * it). Portfolio-margin books and books the kernel cannot hold in fixed point are not screened
 * (null).
 */
function screenBounds(view: StressView, at: StressPricing, fundingOf: ScenarioFunding): ScreenBounds | null {
  if (view.book.marginMode === "portfolio") return null;
  const compiled = compiledLinear(view, at.params);
  const quotes = compiled.fixedPoint ? at.fixed : null;
  if (!quotes) return null;
  floatLinearDistance(compiled, quotes, LINEAR_SCRATCH);
  let { equity, maintenance, magnitude } = LINEAR_SCRATCH;
  const models = optionModelsOf(view, at.base);
  if (models.length > 0) {
    const options = optionFloats(models, at, OPTION_SCRATCH);
    equity += options.value;
    maintenance += options.maintenance;
    magnitude += Math.abs(options.value) + options.maintenance;
  }
  // The scenario's funding: a band around the estimate.
  const funding = fundingBound(view, fundingOf);
  const band = funding + 1e-9 * (magnitude + funding);
  SCREEN_BOUNDS.distanceLow = equity - maintenance - band;
  SCREEN_BOUNDS.distanceHigh = equity - maintenance + band;
  SCREEN_BOUNDS.equityLow = equity - band;
  return SCREEN_BOUNDS;
}

/** Certain bounds from the float screen (a scratch: read at once, never kept). */
export interface ScreenBounds {
  /** equity − MM is at least this, and at most `distanceHigh`. */
  distanceLow: number;
  distanceHigh: number;
  /** Equity is at least this. */
  equityLow: number;
}
const SCREEN_BOUNDS: ScreenBounds = { distanceLow: 0, distanceHigh: 0, equityLow: 0 };

/** Hours in an ISO 8601 duration (a year counts 365 days, a month 30). */
function horizonHours(horizon: string): number {
  const [date = "", time = ""] = horizon.split("T");
  const count = (text: string, unit: string) => Number(new RegExp(`(\\d+)${unit}`).exec(text)?.[1] ?? 0);
  const days = count(date, "Y") * 365 + count(date, "M") * 30 + count(date, "W") * 7 + count(date, "D");
  return days * 24 + count(time, "H") + count(time, "M") / 60 + count(time, "S") / 3600;
}

/** A scenario's 8 h funding intervals: as given, else the whole ones in its horizon (P1D: 3). */
export function fundingIntervalsOf(scenario: Scenario): number {
  return scenario.fundingIntervals ?? Math.floor(horizonHours(scenario.horizon) / 8);
}

/** Per underlying, what a unit long pays over the scenario: shockedMark × rate × intervals (DESIGN §3.10). */
interface ScenarioFunding {
  perUnit: Map<string, Decimal>;
  /** The same at scale 36, and the most decimals any of them has; null when one has more than 36. */
  perUnit36: Map<string, bigint> | null;
  decimals: number;
  /** |perUnit| as floats: bounds on a book's funding. */
  perUnitFloat: Map<string, number>;
}

function scenarioFunding(scenario: Scenario, shocked: Market): ScenarioFunding {
  const perUnit = new Map<string, Decimal>();
  const intervals = fundingIntervalsOf(scenario);
  for (const [asset, rate] of Object.entries(scenario.funding ?? {})) {
    const mark = shocked.quotes.get(asset)?.mark;
    if (mark) perUnit.set(asset, mark.times(rate).times(intervals));
  }
  const decimals = Math.max(0, ...[...perUnit.values()].map((unit) => unit.decimalPlaces()));
  const perUnit36 =
    decimals > UNIT_DECIMALS
      ? null
      : new Map([...perUnit].map(([asset, unit]) => [asset, BigInt(unit.times(SCALE_36).toFixed(0))]));
  const perUnitFloat = new Map([...perUnit].map(([asset, unit]) => [asset, Math.abs(unit.toNumber())]));
  return { perUnit, perUnit36, decimals, perUnitFloat };
}

const UNIT_DECIMALS = 36;
const SCALE_36 = new Decimal(10).pow(UNIT_DECIMALS);

/** A book's perp size per underlying (futures pay no funding), as Decimal and, within 18 decimals, at scale 18. */
interface PerpSizes {
  sizes: Map<string, { size: Decimal; exact: bigint; float: number }>;
  decimals: number;
}
const SIZE_DECIMALS = 18;
function perpSizesOf(view: StressView): PerpSizes {
  const { book } = view;
  let perps = view.perps;
  if (!perps) {
    const total = new Map<string, Decimal>();
    for (const p of book.positions)
      if (p.kind === "linear" && p.type === "perp")
        total.set(p.underlying, (total.get(p.underlying) ?? ZERO).plus(p.size));
    const decimals = Math.max(0, ...[...total.values()].map((size) => size.decimalPlaces()));
    const sizes = new Map(
      [...total].map(([asset, size]) => [
        asset,
        {
          size,
          exact: toFixed18(size) ?? 0n,
          float: Math.abs(size.toNumber()),
        },
      ]),
    );
    perps = { sizes, decimals };
    view.perps = perps;
  }
  return perps;
}

/**
 * Scale 54: −Σ size × perUnit over the book's perps. In integers (scale 18 × scale 36) when the
 * Decimal path would be exact too: every term and partial sum within its 50 significant digits,
 * bounded by the digits before the point of Σ|size × perUnit| plus the decimals of both factors.
 */
/** Σ |perp size| × |per-unit funding| of a book: at least the magnitude of its scenario funding. */
function fundingBound(view: StressView, funding: ScenarioFunding): number {
  if (funding.perUnit.size === 0) return 0;
  let bound = 0;
  for (const [asset, size] of perpSizesOf(view).sizes)
    bound += size.float * (funding.perUnitFloat.get(asset) ?? 0);
  return bound;
}

function fundingPnlOf(view: StressView, funding: ScenarioFunding): bigint {
  if (funding.perUnit.size === 0) return 0n;
  const { sizes, decimals } = perpSizesOf(view);
  if (funding.perUnit36 && decimals <= SIZE_DECIMALS) {
    let pnl = 0n;
    for (const [asset, size] of sizes) {
      const unit = funding.perUnit36.get(asset);
      if (unit !== undefined) pnl -= size.exact * unit;
    }
    const bound = fundingBound(view, funding);
    if (
      bound === 0 ||
      Math.floor(Math.log10(bound * 1.01)) + 2 + decimals + funding.decimals <= Decimal.precision
    )
      return pnl;
  }
  let pnl = ZERO;
  for (const [asset, { size }] of sizes) {
    const unit = funding.perUnit.get(asset);
    if (unit) pnl = pnl.minus(size.times(unit));
  }
  return pnl.isZero() ? 0n : toScaled(pnl);
}

/** Portfolio-margin books go through the grid whole: their options get stressed marks first. */
function remarkForPortfolio(
  view: StressView,
  base: Market,
  market: Market,
  volShift: (asset: string) => number,
): AccountBook {
  const { book } = view;
  const models = optionModelsOf(view, base);
  if (models.length === 0) return book;
  let next = 0;
  return {
    ...book,
    positions: book.positions.map((p) => {
      if (p.kind !== "option") return p;
      const o = models[next++] as OptionModel;
      const S = (market.quotes.get(o.underlying) as Quote).mark.toNumber();
      return {
        ...p,
        markPrice: fromModelFloat(
          black76Price(o.type, S, o.strike, o.years, Math.max(MIN_VOL, o.vol + volShift(o.underlying))),
        ),
      };
    }),
  };
}

export interface ScenarioRun {
  accounts: AccountOutcome[];
  rounds: number;
  finalPrices: Map<string, Decimal>;
  forcedNotional: Map<string, Decimal>;
  pricing: CascadePricing;
  /** Bad debt at the shocked prices, before any cascade (scale 54). */
  badDebtBeforeCascade: bigint;
  breaksFirst: string[];
}

export const badDebtOf = (o: { equity: bigint }) => (o.equity < 0n ? -o.equity : 0n);
export const deficitOf = (o: { equity: bigint; maintenance: bigint }) =>
  o.maintenance > o.equity ? o.maintenance - o.equity : 0n;

/** What one shard's pass found: the accounts that failed and their forced flow (JSON, exact). */
export interface ShardPassReport {
  failing: number;
  /**
   * Per asset: signed forced notional (sells positive), its gross, and the signed base units
   * (`size`, what walks a depth book), of this pass's failures.
   */
  flow: Record<string, { net: string; gross: string; size?: string }>;
  /** First pass only: bad debt at the shocked prices (scale 54) and the 10 worst first breaks. */
  badDebtBeforeCascade: string;
  firstBreaks: { id: string; deficit: string }[];
}

/** A scenario's cascade as every shard sees it: the rounds so far and the flow that moved prices. */
export interface CascadeState {
  rounds: number;
  final: boolean;
  /** Cumulative signed forced notional per asset: the prices after the last round derive from it. */
  netFlow: Record<string, string>;
  /** Cumulative signed forced base units per asset (absent in a state saved before depth books). */
  netSize?: Record<string, string>;
  forcedNotional: Record<string, string>;
  badDebtBeforeCascade: string;
  firstBreaks: { id: string; deficit: string }[];
  firstPassDone: boolean;
}

/** A shard's own memory between passes: its accounts closed by the cascade, and this pass's failures. */
export interface ShardState {
  /** id → round closed, with the outcome frozen at the prices right after that round. */
  closed: Record<string, { round: number; equity?: string; maintenance?: string; fee?: string }>;
  /** Failed in the last pass: closed in the next round if it goes ahead. */
  pending: string[];
  /** The cascade's round count when `pending` was collected. */
  pendingAtRound: number;
}

interface FirstBreak {
  id: string;
  deficit: bigint;
}
const byDeficit = (a: FirstBreak, b: FirstBreak) =>
  a.deficit === b.deficit ? a.id.localeCompare(b.id) : b.deficit > a.deficit ? 1 : -1;
const FIRST_BREAKS_LISTED = 10;

/**
 * One scenario at severity k, run as passes over the book by one or many shards, so a stored book
 * is streamed page by page (memory bounded by the accounts that fail) and a large one is split
 * across workers that meet once per round.
 *
 * After the shock every account is evaluated. With a cascade, the accounts in LIQUIDATION are
 * force-closed: their perps and futures are sold (longs) or bought (shorts) into a book of depth
 * V × depthMultiplier, moving each asset by the square-root law ΔP/P = Y·σ_daily·sqrt(|Q|/V_eff) on
 * the cumulative net forced notional Q; a closed account's equity is fixed at the prices right
 * after its round. The others are re-evaluated at the new prices and the rounds repeat until
 * nobody new fails (the fixed point p* = p_shock·(1 − I(Q(p*)))) or maxCascadeRounds.
 *
 * Pass r evaluates at the prices after round r − 1 (the shocked prices for r = 1): each shard
 * freezes its accounts closed in round r − 1 and collects its open accounts that now fail. `endPass`
 * (the reduce) sums the shards' reports: their flow moves the prices of round r, or, when nobody
 * new failed, the next pass is `final` and reports every account. The cascade's state and each
 * shard's are plain JSON, so the shards can be separate processes.
 */
export class ScenarioCascade {
  readonly shocked: Market;
  prices: Market;
  rounds = 0;
  final = false;
  readonly forcedNotional = new Map<string, Decimal>();
  badDebtBeforeCascade = 0n;
  private readonly netFlow = new Map<string, Decimal>();
  private readonly netSize = new Map<string, Decimal>();
  /** Per asset whose price a book set: where the cumulative flow reached on it. */
  private readonly walks = new Map<string, BookWalk>();
  private firstBreaks: FirstBreak[] = [];
  /** The first pass (at the shocked prices) also records the pre-cascade bad debt and first breaks. */
  firstPassDone = false;
  readonly cascades: boolean;

  constructor(
    readonly market: Market,
    readonly params: RiskParams,
    readonly scenario: Scenario,
    readonly k: Decimal,
    readonly settings: StressSettings,
    state?: CascadeState,
  ) {
    this.shocked = shockMarket(market, scenario, k);
    this.prices = this.shocked;
    this.fundingPerUnit = scenarioFunding(scenario, this.shocked);
    this.feeRate = liquidationSettings(params.document).fee;
    this.warning54 = toScaled(params.status.warningBuffer);
    this.warningFloat = params.status.warningBuffer.toNumber();
    this.cascades = scenario.cascade && (settings.impact.size > 0 || settings.depth.size > 0);
    // Without a cascade the shocked prices are final: one pass reports everything.
    this.final = !this.cascades;
    if (state) this.restore(state);
  }

  private readonly volShifts = new Map<string, number>();
  readonly volShift = (asset: string) => {
    let shift = this.volShifts.get(asset);
    if (shift === undefined) {
      shift = Number(this.scenario.shocks[asset]?.vol ?? "0") * this.k.toNumber();
      this.volShifts.set(asset, shift);
    }
    return shift;
  };

  /** Per underlying, the funding a unit long pays over the scenario: shockedMark × rate × intervals. */
  private readonly fundingPerUnit: ScenarioFunding;

  /** The venue's liquidation fee rate (params "liquidation", DESIGN §3.12). */
  private readonly feeRate: Decimal;

  /** The params' warning buffer, converted once. */
  private readonly warning54: bigint;
  private readonly warningFloat: number;

  /** The current prices as evaluations read them (`evaluating`), made once per set of prices. */
  private evaluatingAt?: StressPricing;
  private get evaluating(): StressPricing {
    const market = this.prices;
    if (this.evaluatingAt?.market !== market)
      this.evaluatingAt = {
        base: this.market,
        market,
        fixed: fixedMarket(market),
        floats: floatQuotes(market),
        params: this.params,
        optionRates: optionParameters(this.params),
        volShift: this.volShift,
        warning54: this.warning54,
        warningFloat: this.warningFloat,
      };
    return this.evaluatingAt;
  }

  /**
   * An account in LIQUIDATION is closed by the venue at the current marks (all at once: the
   * cascade's flow), paying the fee on the closed notional into the insurance fund: its outcome
   * takes the fee from equity.
   */
  liquidated(book: AccountBook, outcome: AccountOutcome, round: number): AccountOutcome {
    // Without a fee, an account the final prices find in LIQUIDATION is already its own closed outcome.
    const unchanged =
      outcome.status === "LIQUIDATION" && outcome.closedInRound === round && outcome.fee === 0n;
    if (unchanged && this.feeRate.isZero()) return outcome;
    let fee = 0n;
    if (!this.feeRate.isZero()) {
      let notional = ZERO;
      for (const p of book.positions)
        if (p.kind === "linear")
          notional = notional.plus(p.size.abs().times((this.prices.quotes.get(p.underlying) as Quote).mark));
      fee = toScaled(notional.times(this.feeRate));
    }
    return {
      ...outcome,
      equity: outcome.equity - fee,
      fee,
      status: "LIQUIDATION" as const,
      closedInRound: round,
    };
  }

  /** The outcome at the current prices (`view`: the book's, when the caller holds it). */
  evaluate(book: AccountBook, view: StressView = viewOf(book)) {
    return evaluateAt(view, this.evaluating, fundingPnlOf(view, this.fundingPerUnit));
  }

  /** `screenBounds` at the current prices (a scratch, read at once), or null: not screened. */
  screen(book: AccountBook, view: StressView = viewOf(book)): ScreenBounds | null {
    return screenBounds(view, this.evaluating, this.fundingPerUnit);
  }

  /** Ends a pass with every shard's report: applies the round's forced flow, or switches to the final pass. */
  endPass(reports: readonly ShardPassReport[]): void {
    if (!this.firstPassDone) {
      for (const report of reports) {
        this.badDebtBeforeCascade += BigInt(report.badDebtBeforeCascade);
        this.firstBreaks.push(...report.firstBreaks.map((b) => ({ id: b.id, deficit: BigInt(b.deficit) })));
      }
      this.firstBreaks.sort(byDeficit);
      this.firstBreaks.length = Math.min(this.firstBreaks.length, FIRST_BREAKS_LISTED);
    }
    this.firstPassDone = true;
    if (this.final) return;
    const failing = reports.reduce((n, r) => n + r.failing, 0);
    if (failing === 0 || this.rounds >= this.settings.maxCascadeRounds) {
      this.final = true;
      return;
    }
    this.rounds++;
    for (const report of reports)
      for (const [asset, { net, gross, size }] of Object.entries(report.flow)) {
        this.netFlow.set(asset, (this.netFlow.get(asset) ?? WIDE_ZERO).plus(net));
        this.netSize.set(asset, (this.netSize.get(asset) ?? WIDE_ZERO).plus(size ?? "0"));
        this.forcedNotional.set(asset, (this.forcedNotional.get(asset) ?? WIDE_ZERO).plus(gross));
      }
    this.reprice();
  }

  /**
   * The prices after the rounds so far. An asset with a book is walked on it by its cumulative net
   * base units (`walkBook`); the book stays where the shock put it, so what earlier rounds took
   * stays taken. Others move by the square-root model on their cumulative net notional.
   */
  private reprice(): void {
    const quotes = new Map(this.shocked.quotes);
    const multiplier = this.scenario.depthMultiplier;
    const depth = Number(multiplier);
    this.walks.clear();
    for (const [asset, flow] of this.netFlow) {
      const quote = this.shocked.quotes.get(asset);
      const book = this.settings.depth.get(asset);
      if (quote && book) {
        const walk = walkBook(
          book,
          this.netSize.get(asset) ?? WIDE_ZERO,
          new Decimal(multiplier),
          PRICE_FLOOR,
        );
        this.walks.set(asset, walk);
        quotes.set(asset, scaleQuote(quote, walk.factor));
        continue;
      }
      const impact = this.settings.impact.get(asset);
      if (!impact || !quote || flow.isZero()) continue;
      const move =
        impact.Y * impact.dailyVol * Math.sqrt(Math.abs(flow.toNumber()) / (impact.dailyVolume * depth));
      // Net selling (long closeouts) pushes the price down, net buying up.
      const factor = flow.isPositive() ? Math.max(1 - move, PRICE_FLOOR.toNumber()) : 1 + move;
      quotes.set(asset, scaleQuote(quote, fromModelFloat(factor)));
    }
    this.prices = { ...this.shocked, quotes };
  }

  state(): CascadeState {
    const text = (m: Map<string, Decimal>) => Object.fromEntries([...m].map(([a, d]) => [a, d.toFixed()]));
    return {
      rounds: this.rounds,
      final: this.final,
      netFlow: text(this.netFlow),
      netSize: text(this.netSize),
      forcedNotional: text(this.forcedNotional),
      badDebtBeforeCascade: this.badDebtBeforeCascade.toString(),
      firstBreaks: this.firstBreaks.map((b) => ({ id: b.id, deficit: b.deficit.toString() })),
      firstPassDone: this.firstPassDone,
    };
  }

  private restore(state: CascadeState): void {
    this.rounds = state.rounds;
    this.final = state.final;
    for (const [asset, flow] of Object.entries(state.netFlow)) this.netFlow.set(asset, new Wide(flow));
    for (const [asset, size] of Object.entries(state.netSize ?? {})) this.netSize.set(asset, new Wide(size));
    for (const [asset, n] of Object.entries(state.forcedNotional))
      this.forcedNotional.set(asset, new Wide(n));
    this.badDebtBeforeCascade = BigInt(state.badDebtBeforeCascade);
    this.firstBreaks = state.firstBreaks.map((b) => ({ id: b.id, deficit: BigInt(b.deficit) }));
    this.firstPassDone = state.firstPassDone;
    this.reprice();
  }

  get breaksFirst(): string[] {
    return this.firstBreaks.map((b) => b.id);
  }

  /** Per asset with forced flow, what priced it (the report's `cascade.pricing`). */
  get pricing(): CascadePricing {
    const pricing: CascadePricing = {};
    for (const asset of [...this.forcedNotional.keys()].sort()) {
      const walk = this.walks.get(asset);
      pricing[asset] = walk
        ? {
            pricedBy: "depth",
            side: walk.side,
            levelsTouched: walk.levelsTouched,
            consumed: neutralString(walk.consumed),
            visible: neutralString(walk.visible),
            pastBook: walk.pastBook,
          }
        : { pricedBy: this.settings.impact.has(asset) ? "model" : "none" };
    }
    return pricing;
  }

  get finalPrices(): Map<string, Decimal> {
    return new Map([...this.prices.quotes].map(([asset, q]) => [asset, q.mark]));
  }
}

/** One shard's passes of a scenario: its share of the book, evaluated at the cascade's prices. */
export class ScenarioShard {
  private readonly closed = new Map<string, { round: number; frozen?: AccountOutcome }>();
  private pending: string[] = [];
  private pendingAtRound = 0;
  private failing = 0;
  /**
   * Per asset, this pass's forced base units, signed and gross: integers at scale 18, and Wide
   * (exact) sums of the sizes with more decimals.
   */
  private readonly flow = new Map<string, ForcedFlow>();
  private badDebtBeforeCascade = 0n;
  private firstBreaks: FirstBreak[] = [];

  constructor(
    private readonly cascade: ScenarioCascade,
    state?: ShardState,
    /**
     * Keep every account's last outcome between passes (memory grows with the shard's accounts),
     * so that a round skips the accounts that cannot fail and the final pass reuses outcomes at
     * unchanged prices. For a book held in memory anyway (`ScenarioRunner`); the streamed job's
     * shards, whose memory is one page plus their failures, leave it off.
     */
    private readonly remember = false,
  ) {
    if (state) {
      for (const [id, c] of Object.entries(state.closed))
        this.closed.set(id, {
          round: c.round,
          ...(c.equity !== undefined && c.maintenance !== undefined
            ? {
                frozen: {
                  id,
                  equity: BigInt(c.equity),
                  maintenance: BigInt(c.maintenance),
                  status: "LIQUIDATION",
                  closedInRound: c.round,
                  fee: BigInt(c.fee ?? "0"),
                },
              }
            : {}),
        });
      this.pending = [...state.pending];
      this.pendingAtRound = state.pendingAtRound;
    }
    this.settlePending();
  }

  /** Last pass's failures are closed if the cascade went ahead with their round. */
  private settlePending(): void {
    const { rounds } = this.cascade;
    if (this.pending.length > 0 && rounds > this.pendingAtRound)
      this.pending.forEach((id, k) => {
        const entry = { round: rounds };
        this.closed.set(id, entry);
        const i = this.pendingIndexes[k];
        if (this.memory && i !== undefined && i >= 0) this.memory.closed[i] = entry;
      });
    this.pending = [];
    this.pendingIndexes = [];
    this.pendingAtRound = rounds;
  }

  /** With memory: each pending account's place in the book, so that its closure is found by index. */
  private pendingIndexes: number[] = [];

  /** Evaluates one page of this shard in the current pass; in the final pass returns the outcomes. */
  pass(books: readonly AccountBook[]): AccountOutcome[] {
    const { cascade } = this;
    const outcomes: AccountOutcome[] = [];
    const memory = this.remember && cascade.cascades ? this.memoryOf(books) : undefined;
    for (let i = 0; i < books.length; i++) {
      const book = books[i] as AccountBook;
      let view = memory?.views[i];
      if (!view) {
        view = viewOf(book);
        if (memory) memory.views[i] = view;
      }
      const closed = memory ? memory.closed[i] : this.closed.get(book.id);
      if (closed) {
        closed.frozen ??= cascade.liquidated(book, cascade.evaluate(book, view), closed.round);
        if (cascade.final) outcomes.push(closed.frozen);
        continue;
      }
      // A cascade round only looks for new failures: an account too far from its MM to fail at
      // this round's prices is not evaluated again. The final pass reports everyone, reusing an
      // outcome evaluated at its very prices.
      const seenAt = memory?.prices[i];
      if (!cascade.final && seenAt && this.cannotFail(view, memory.distance[i] as number, seenAt)) continue;
      // Before an exact evaluation, the float screen. An account certainly above its MM here
      // cannot fail in this pass: its exact outcome comes in the final pass (with memory its
      // distance serves the next rounds; a streamed shard screens it again in each pass). One
      // certainly below its MM, without bad debt, fails: its exact figures come when it is closed,
      // unless the first pass needs them for its ten worst first breaks.
      const screen = cascade.final ? null : cascade.screen(book, view);
      if (screen && (screen.distanceLow > 0 || this.failsUnseen(screen))) {
        const fails = screen.distanceLow <= 0;
        if (memory) {
          memory.prices[i] = cascade.prices;
          memory.outcomes[i] = undefined;
          memory.distance[i] = fails ? Number.NaN : screen.distanceLow;
        }
        if (fails) {
          this.fail(book, view);
          if (memory) this.pendingIndexes.push(i);
        }
        continue;
      }
      const remembered = seenAt === cascade.prices ? memory?.outcomes[i] : undefined;
      const outcome = remembered ?? cascade.evaluate(book, view);
      if (memory && !cascade.final) {
        memory.prices[i] = cascade.prices;
        memory.outcomes[i] = outcome;
        // NaN (never skipped) for a portfolio-margin book: the bound is for the standard model.
        memory.distance[i] =
          book.marginMode === "standard" ? Number(outcome.equity - outcome.maintenance) / 1e54 : Number.NaN;
      }
      if (!cascade.firstPassDone) {
        this.badDebtBeforeCascade += badDebtOf(outcome);
        if (outcome.status === "LIQUIDATION") this.noteFirstBreak(outcome);
      }
      // At the final prices the venue liquidates whoever is still in LIQUIDATION.
      if (cascade.final)
        outcomes.push(outcome.status === "LIQUIDATION" ? cascade.liquidated(book, outcome, 0) : outcome);
      else if (cascade.cascades && outcome.status === "LIQUIDATION") {
        this.fail(book, view);
        if (memory) this.pendingIndexes.push(i);
      }
    }
    return outcomes;
  }

  /**
   * With `remember`: each account's outcome when last evaluated, the prices then, and its
   * equity − MM as a float, by its place in the book (the runner passes the same array every
   * pass; another array starts afresh). A cascade round's prices move equity − MM by at most
   * Σ sensitivity × |price move| (`sensitivityOf`).
   */
  private memory?: {
    books: readonly AccountBook[];
    /** The shard's closed accounts by place in the book (the same entries as `closed`). */
    closed: ({ round: number; frozen?: AccountOutcome } | undefined)[];
    /** Each book's stress view, by place (one lookup per book per run, not per pass). */
    views: (StressView | undefined)[];
    distance: Float64Array;
    prices: (Market | undefined)[];
    outcomes: (AccountOutcome | undefined)[];
  };

  private memoryOf(books: readonly AccountBook[]) {
    if (this.memory?.books !== books) {
      this.memory = {
        books,
        closed: books.map((book) => this.closed.get(book.id)),
        views: new Array(books.length),
        distance: new Float64Array(books.length),
        prices: new Array(books.length),
        outcomes: new Array(books.length),
      };
      // A pass over another array forgets where the pending accounts were: find them by id.
      this.pendingIndexes = this.pending.map((id) => books.findIndex((b) => b.id === id));
    }
    return this.memory;
  }

  private cannotFail(view: StressView, distance: number, seenAt: Market): boolean {
    if (!(distance > 0)) return false;
    if (seenAt === this.cascade.prices) return true;
    const moves = this.movesSince(seenAt);
    let bound = 0;
    for (const { asset, index, mark } of sensitivityOf(view, this.cascade.params)) {
      const move = moves.get(asset);
      if (!move) return false;
      bound += index * move.index + mark * move.mark;
    }
    // Float rounding in the distance and the bound is ~1e-15 relative: a 1e-6 margin covers it.
    return distance - bound > 1e-6 * (distance + bound);
  }

  /**
   * Whether a screened account certainly fails with no exact figure needed now: below its MM,
   * equity certainly ≥ 0 (no bad debt before the cascade), and, in the first pass, a deficit
   * (MM − equity ≤ −distanceLow) that cannot enter this shard's ten worst first breaks.
   */
  private failsUnseen(screen: ScreenBounds): boolean {
    if (!(screen.distanceHigh < 0 && screen.equityLow >= 0)) return false;
    if (this.cascade.firstPassDone) return true;
    if (this.firstBreaks.length < FIRST_BREAKS_LISTED) return false;
    const tenth = (this.firstBreaks[FIRST_BREAKS_LISTED - 1] as { deficit: bigint }).deficit;
    return -screen.distanceLow < (Number(tenth) / 1e54) * (1 - 1e-9);
  }

  /** |Δ index| and |Δ mark| per asset from `seenAt` to the current prices, once per pair of markets. */
  private moves?: { to: Market; from: Map<Market, Map<string, { index: number; mark: number }>> };
  private movesSince(seenAt: Market): Map<string, { index: number; mark: number }> {
    const to = this.cascade.prices;
    if (this.moves?.to !== to) this.moves = { to, from: new Map() };
    let moves = this.moves.from.get(seenAt);
    if (!moves) {
      const before = floatQuotes(seenAt);
      moves = new Map();
      for (const [asset, now] of floatQuotes(to)) {
        const from = before.get(asset);
        if (from)
          moves.set(asset, { index: Math.abs(now.index - from.index), mark: Math.abs(now.mark - from.mark) });
      }
      this.moves.from.set(seenAt, moves);
    }
    return moves;
  }

  /** Keeps the listed worst first breaks in order: an insertion, no sort (most breaks do not enter). */
  private noteFirstBreak(outcome: AccountOutcome): void {
    const entry = { id: outcome.id, deficit: deficitOf(outcome) };
    const list = this.firstBreaks;
    let at = list.length;
    while (at > 0 && byDeficit(entry, list[at - 1] as FirstBreak) < 0) at--;
    if (at >= FIRST_BREAKS_LISTED) return;
    list.splice(at, 0, entry);
    if (list.length > FIRST_BREAKS_LISTED) list.length = FIRST_BREAKS_LISTED;
  }

  private fail(book: AccountBook, view: StressView): void {
    this.failing++;
    this.pending.push(book.id);
    // Forced only if its round goes ahead: at the round cap the account is never closed.
    for (const { underlying, size, size18 } of closingOf(view)) {
      let entry = this.flow.get(underlying);
      if (!entry) {
        entry = { size18: 0n, gross18: 0n, size: WIDE_ZERO, grossSize: WIDE_ZERO };
        this.flow.set(underlying, entry);
      }
      if (size18 !== null) {
        entry.size18 += size18;
        entry.gross18 += size18 < 0n ? -size18 : size18;
      } else {
        entry.size = entry.size.plus(size);
        entry.grossSize = size.isNegative() ? entry.grossSize.minus(size) : entry.grossSize.plus(size);
      }
    }
  }

  /** This pass's report for the reduce; the shard starts its next pass empty. */
  endPass(): ShardPassReport {
    const report: ShardPassReport = {
      failing: this.failing,
      // Every failure of a pass is sold at the pass's marks: notional = mark × Σ size, exactly.
      flow: Object.fromEntries(
        [...this.flow].map(([asset, f]) => {
          const mark = (this.cascade.prices.quotes.get(asset) as Quote).mark;
          const size = f.size.plus(fromFixed(f.size18, 1));
          return [
            asset,
            {
              net: size.times(mark).toFixed(),
              gross: f.grossSize.plus(fromFixed(f.gross18, 1)).times(mark).toFixed(),
              size: size.toFixed(),
            },
          ];
        }),
      ),
      badDebtBeforeCascade: this.badDebtBeforeCascade.toString(),
      firstBreaks: this.firstBreaks.map((b) => ({ id: b.id, deficit: b.deficit.toString() })),
    };
    this.failing = 0;
    this.flow.clear();
    this.badDebtBeforeCascade = 0n;
    this.firstBreaks = [];
    return report;
  }

  /** Call after the cascade's endPass, before the next pass. */
  nextPass(): void {
    this.settlePending();
  }

  state(): ShardState {
    return {
      closed: Object.fromEntries(
        [...this.closed].map(([id, c]) => [
          id,
          {
            round: c.round,
            ...(c.frozen
              ? {
                  equity: c.frozen.equity.toString(),
                  maintenance: c.frozen.maintenance.toString(),
                  fee: c.frozen.fee.toString(),
                }
              : {}),
          },
        ]),
      ),
      pending: [...this.pending],
      pendingAtRound: this.pendingAtRound,
    };
  }
}

/** A scenario over the whole book in one process: the cascade with a single shard. */
export class ScenarioRunner {
  readonly cascade: ScenarioCascade;
  private readonly shard: ScenarioShard;
  constructor(market: Market, params: RiskParams, scenario: Scenario, k: Decimal, settings: StressSettings) {
    this.cascade = new ScenarioCascade(market, params, scenario, k, settings);
    this.shard = new ScenarioShard(this.cascade, undefined, true);
  }
  get final(): boolean {
    return this.cascade.final;
  }
  pass(books: readonly AccountBook[]): AccountOutcome[] {
    return this.shard.pass(books);
  }
  endPass(): void {
    this.cascade.endPass([this.shard.endPass()]);
    this.shard.nextPass();
  }
}

/** One scenario over an in-memory book: the passes of ScenarioRunner with the whole book as one page. */
export function runScenario(
  books: readonly AccountBook[],
  market: Market,
  params: RiskParams,
  scenario: Scenario,
  k: Decimal,
  settings: StressSettings,
): ScenarioRun {
  const runner = new ScenarioRunner(market, params, scenario, k, settings);
  let accounts: AccountOutcome[] = [];
  while (!runner.final) {
    runner.pass(books);
    runner.endPass();
  }
  accounts = runner.pass(books);
  // The final pass ends like any other: a scenario without a cascade records its first pass here.
  runner.endPass();
  const { cascade } = runner;
  return {
    accounts,
    rounds: cascade.rounds,
    finalPrices: cascade.finalPrices,
    forcedNotional: cascade.forcedNotional,
    pricing: cascade.pricing,
    badDebtBeforeCascade: cascade.badDebtBeforeCascade,
    breaksFirst: cascade.breaksFirst,
  };
}

const totalBadDebt = (run: ScenarioRun) => run.accounts.reduce((sum, o) => sum + badDebtOf(o), 0n);

/**
 * Reverse stress: the smallest severity k in (0, 5] at which total bad debt exceeds the insurance
 * fund, by bisection to 1e-4 (reported rounded up); null when it stays within the fund at k = 5.
 */
export function reverseSeverity(
  books: readonly AccountBook[],
  market: Market,
  params: RiskParams,
  scenario: Scenario,
  settings: StressSettings,
): Decimal | null {
  const fund = toScaled(settings.insuranceFund);
  const exceeds = (k: Decimal) =>
    totalBadDebt(runScenario(books, market, params, scenario, k, settings)) > fund;
  let high = new Decimal(5);
  if (!exceeds(high)) return null;
  let low = ZERO;
  while (high.minus(low).gt("0.0001")) {
    const mid = low.plus(high).div(2);
    if (exceeds(mid)) high = mid;
    else low = mid;
  }
  return high.toDecimalPlaces(4, Decimal.ROUND_CEIL);
}

export interface StressOptions {
  /** Only these scenario ids. */
  scenarios?: readonly string[];
  /** Skip the reverse-stress bisection (it runs the scenario ~16 more times). */
  reverse?: boolean;
  /** Called after each scenario, for progress on long runs. */
  onScenario?: (done: number, total: number) => void;
}

/** One line of a stress summary (the demo's table, the scheduled report's stored summary). */
export interface StressSummaryRow {
  id: string;
  liquidations: number;
  totalBadDebt: string;
  insuranceFundAfter: string;
  cover1: string;
  cover2: string;
  cascadeRounds: number;
  /** The assets whose cascade walked the venue's book (DESIGN §3.11) rather than the model. */
  cascadeWalkedBook: string[];
}

export function stressSummaryRow(
  entry: Omit<
    StressReport["scenarios"][number],
    "accounts" | "reverseSeverity" | "coverAccounts" | "breaksFirst" | "totalDeficit"
  >,
): StressSummaryRow {
  return {
    id: entry.id,
    liquidations: entry.accountsByStatus.LIQUIDATION,
    totalBadDebt: entry.totalBadDebt,
    insuranceFundAfter: entry.insuranceFundAfter,
    cover1: entry.cover1,
    cover2: entry.cover2,
    cascadeRounds: entry.cascade.rounds,
    cascadeWalkedBook: Object.entries(entry.cascade.pricing)
      .filter(([, p]) => p.pricedBy === "depth")
      .map(([asset]) => asset),
  };
}

/** A shard's stress aggregates (JSON; amounts at scale 54 as integer strings). */
export interface StressAggregatePartial {
  byStatus: Record<AccountStatus, number>;
  totalBadDebt: string;
  totalDeficit: string;
  fees?: string;
  largest: { id: string; badDebt: string }[];
}

/**
 * Sums one scenario's account outcomes into DESIGN §3.8's aggregates, one account at a time (the
 * in-memory report and the streamed scheduled job share it).
 */
export class StressAggregator {
  readonly byStatus: Record<AccountStatus, number> = {
    HEALTHY: 0,
    WARNING: 0,
    MARGIN_CALL: 0,
    LIQUIDATION: 0,
  };
  totalBadDebt = 0n;
  totalDeficit = 0n;
  fees = 0n;
  private readonly largest: { id: string; badDebt: bigint }[] = [];

  /** Adds an account and returns its report row. */
  add(o: AccountOutcome): StressReport["scenarios"][number]["accounts"][number] {
    const badDebt = badDebtOf(o);
    const deficit = deficitOf(o);
    this.byStatus[o.status]++;
    this.totalBadDebt += badDebt;
    this.totalDeficit += deficit;
    this.fees += o.fee;
    if (badDebt > 0n) this.noteLargest(o.id, badDebt);
    return {
      id: o.id,
      equity: formatScaled(o.equity, "down"),
      maintenanceMargin: formatScaled(o.maintenance, "up"),
      status: o.status,
      deficit: formatScaled(deficit, "up"),
      badDebt: formatScaled(badDebt, "up"),
    };
  }

  /** What this aggregator summed, for a reducer to merge (one shard of a sharded stress run). */
  partial(): StressAggregatePartial {
    return {
      byStatus: { ...this.byStatus },
      totalBadDebt: this.totalBadDebt.toString(),
      totalDeficit: this.totalDeficit.toString(),
      fees: this.fees.toString(),
      largest: this.largest.map((l) => ({ id: l.id, badDebt: l.badDebt.toString() })),
    };
  }

  merge(partial: StressAggregatePartial): void {
    for (const status of Object.keys(this.byStatus) as AccountStatus[])
      this.byStatus[status] += partial.byStatus[status];
    this.totalBadDebt += BigInt(partial.totalBadDebt);
    this.totalDeficit += BigInt(partial.totalDeficit);
    // A partial stored by a job started before fees existed has none.
    this.fees += BigInt(partial.fees ?? "0");
    for (const l of partial.largest) this.noteLargest(l.id, BigInt(l.badDebt));
  }

  private noteLargest(id: string, badDebt: bigint): void {
    this.largest.push({ id, badDebt });
    this.largest.sort((a, b) =>
      a.badDebt === b.badDebt ? a.id.localeCompare(b.id) : b.badDebt > a.badDebt ? 1 : -1,
    );
    if (this.largest.length > 2) this.largest.length = 2;
  }

  /** Everything of the scenario's entry but `id`, `accounts` and `reverseSeverity`. */
  aggregates(
    settings: StressSettings,
    run: {
      rounds: number;
      finalPrices: Map<string, Decimal>;
      forcedNotional: Map<string, Decimal>;
      pricing: CascadePricing;
      badDebtBeforeCascade: bigint;
      breaksFirst: string[];
    },
  ) {
    const cover1 = this.largest[0]?.badDebt ?? 0n;
    const cover2 = cover1 + (this.largest[1]?.badDebt ?? 0n);
    const added = this.totalBadDebt - run.badDebtBeforeCascade;
    // The waterfall (DESIGN §3.12): the fund takes the fees, then pays the bad debt; what it cannot
    // pay would go to auto-deleveraging.
    const fund = toScaled(settings.insuranceFund) + this.fees;
    const fundUsed = this.totalBadDebt < fund ? this.totalBadDebt : fund;
    return {
      accountsByStatus: { ...this.byStatus },
      totalDeficit: formatScaled(this.totalDeficit, "up"),
      totalBadDebt: formatScaled(this.totalBadDebt, "up"),
      insuranceFundAfter: formatScaled(fund - this.totalBadDebt, "down"),
      cover1: formatScaled(cover1, "up"),
      cover2: formatScaled(cover2, "up"),
      coverAccounts: this.largest.map((l) => l.id),
      cascade: {
        rounds: run.rounds,
        finalPrices: Object.fromEntries([...run.finalPrices].map(([a, p]) => [a, neutralString(p)])),
        // Sorted: the order assets first saw forced flow differs between shards.
        forcedNotional: Object.fromEntries(
          [...run.forcedNotional].sort(([a], [b]) => (a < b ? -1 : 1)).map(([a, n]) => [a, neutralString(n)]),
        ),
        addedBadDebt: formatScaled(added > 0n ? added : 0n, "up"),
        pricing: run.pricing,
      },
      breaksFirst: run.breaksFirst,
      waterfall: {
        fees: formatScaled(this.fees, "down"),
        fundUsed: formatScaled(fundUsed, "up"),
        toAdl: formatScaled(this.totalBadDebt - fundUsed, "up"),
      },
    };
  }
}

/** The pack over the book: DESIGN §3.8's report. */
export function stressReport(
  portfolio: {
    asOf: string;
    market: Market;
    params: RiskParams;
    accounts: readonly AccountBook[];
    depth?: DepthBooks;
  },
  pack: ScenarioPack,
  options: StressOptions = {},
): StressReport {
  const settings = stressSettings(portfolio.params, portfolio.depth);
  const scenarios = pack.scenarios.filter((s) => !options.scenarios || options.scenarios.includes(s.id));
  return {
    asOf: portfolio.asOf,
    paramsVersion: portfolio.params.version,
    pack: pack.id,
    scenarios: scenarios.map((scenario) => {
      const run = runScenario(
        portfolio.accounts,
        portfolio.market,
        portfolio.params,
        scenario,
        ONE,
        settings,
      );
      const aggregator = new StressAggregator();
      const accounts = run.accounts.map((o) => aggregator.add(o));
      const reverse =
        options.reverse === false
          ? null
          : reverseSeverity(portfolio.accounts, portfolio.market, portfolio.params, scenario, settings);
      const { accountsByStatus, ...rest } = aggregator.aggregates(settings, run);
      options.onScenario?.(scenarios.indexOf(scenario) + 1, scenarios.length);
      return {
        id: scenario.id,
        accountsByStatus,
        ...rest,
        reverseSeverity: reverse ? reverse.toFixed() : null,
        accounts,
      };
    }),
  };
}
