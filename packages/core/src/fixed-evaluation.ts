import { type AccountRisk, type AccountStatus, callAmount, marginRatio } from "./account.ts";
import type { AccountBook, Market, OptionPosition } from "./book.ts";
import { Decimal, divideDown, ONE, requirementString, valueString, ZERO } from "./decimal.ts";
import {
  assignmentKey,
  bracketKey,
  bracketOfLeg,
  bracketSums,
  type CompiledBook,
  compileBook,
  exactReciprocal,
  type FixedQuote,
  type FixedTotals,
  fixedLinearTotals,
  fixedMarket,
  fixedParameter,
  fromFixed,
  type Leg,
  type LinearGroup,
  legBracket,
  powerOfTen,
  SCALE_UNIT,
} from "./kernel.ts";
import { type LiquidationSolution, liquidationPrice } from "./liquidation.ts";
import { modelPrice, type PositionFigures } from "./margin.ts";
import type { Bracket, RiskParams } from "./params.ts";
import {
  absAmount,
  addAsDecimal,
  amountDecimal,
  compareAmounts,
  digitsAmount,
  exactAmount,
  formatFixed,
  modelAmount,
  negateAmount,
  quotientDigits,
  type ScaledAmount,
  timesAsDecimal,
} from "./scaled.ts";

/** An account's totals as exact amounts (what the exposure report sums). */
export interface AccountAmounts {
  collateral: ScaledAmount;
  unrealizedPnl: ScaledAmount;
  equity: ScaledAmount;
  initial: ScaledAmount;
  maintenance: ScaledAmount;
  call: ScaledAmount;
}

/**
 * `backing evaluate`'s evaluation (DESIGN §3.3) on the kernel's fixed-point book: per-position
 * figures, totals and, for every underlying whose positions are all perps and futures, the
 * liquidation price in closed form, all in the kernel's BigInt scale. Amounts stay integers until
 * read: a Decimal is built only when a caller asks for one, and `text()` prints the output strings
 * straight from the integers. Options keep their Decimal/float figures, and an underlying with
 * options keeps the certified search of `liquidationPrice`.
 *
 * Equal to the Decimal path (`accountRisk` + `liquidationPrice`) to the last printed digit,
 * property-tested. Undefined when the book or market has more than 18 decimals somewhere, or an
 * underlying without a price: the Decimal path then decides.
 */
export function fixedEvaluation(
  book: AccountBook,
  market: Market,
  params: RiskParams,
): FixedAccountEvaluation | undefined {
  if (book.marginMode !== "standard") return undefined;
  const compiled = compileBook(book, params, false);
  const quotes = compiled.fixedPoint ? fixedMarket(market) : null;
  if (!quotes || !book.positions.every((p) => quotes.has(p.underlying))) return undefined;
  return new FixedAccountEvaluation(book, market, params, compiled, quotes);
}

/** A perp's or future's figures from its compiled leg: scale 36 (notional, uPnL) and 54 (IM, MM). */
export class FixedLinearFigures implements PositionFigures {
  readonly instrument: string;
  readonly value = ZERO;
  readonly notional36: bigint;
  readonly pnl36: bigint;
  /** Null when 1/maxLeverage does not terminate: IM is then the Decimal path's truncated quotient. */
  readonly initial54: bigint | null;
  readonly maintenance54: bigint;
  private readonly bracket: Bracket;
  constructor(
    readonly leg: Leg,
    group: LinearGroup,
    quote: FixedQuote,
  ) {
    this.instrument = leg.position.instrument;
    this.bracket = group.brackets[legBracket(group, leg, quote.mark, quote.markFloat)] as Bracket;
    this.notional36 = leg.absSize * quote.mark;
    this.pnl36 = leg.size * (quote.mark - leg.entry) + leg.funding * SCALE_UNIT;
    const reciprocal = exactReciprocal(this.bracket.maxLeverage);
    this.initial54 = reciprocal === null ? null : this.notional36 * reciprocal;
    this.maintenance54 =
      this.notional36 * (fixedParameter(this.bracket.mmr) ?? 0n) -
      (fixedParameter(this.bracket.cum) ?? 0n) * SCALE_UNIT * SCALE_UNIT;
  }
  get notional(): Decimal {
    return fromFixed(this.notional36, 2);
  }
  get unrealizedPnl(): Decimal {
    return fromFixed(this.pnl36, 2);
  }
  get initialMargin(): Decimal {
    return this.initial54 === null
      ? divideDown(this.notional, this.bracket.maxLeverage)
      : fromFixed(this.initial54, 3);
  }
  get maintenanceMargin(): Decimal {
    return fromFixed(this.maintenance54, 3);
  }
  /** IM as the Decimal path has it: exact, or notional / maxLeverage truncated at 50 digits. */
  initialAmount(): ScaledAmount {
    if (this.initial54 !== null) return { value: this.initial54, scale: 54 };
    const leverage = fixedParameter(this.bracket.maxLeverage) ?? 1n;
    return digitsAmount(quotientDigits(this.notional36, leverage, 18, "down"));
  }
  /** The position's output strings (DESIGN §4's account document). */
  text() {
    const initial = this.initialAmount();
    return {
      notional: formatFixed(this.notional36, 36, "half-even"),
      unrealizedPnl: formatFixed(this.pnl36, 36, "floor"),
      funding: this.leg.position.type === "perp" ? formatFixed(this.leg.funding, 18, "floor") : undefined,
      initialMargin: formatFixed(initial.value, initial.scale, "ceil"),
      maintenanceMargin: formatFixed(this.maintenance54, 54, "ceil"),
    };
  }
}

/**
 * An option's figures (`optionFigures`, DESIGN §3.3) on exact amounts: each Decimal product,
 * difference and max as decimal.js computes it, so they are the same numbers; Decimals are built
 * only when read (the account document prints them).
 */
export class FixedOptionFigures implements PositionFigures {
  readonly instrument: string;
  readonly unrealizedPnl = ZERO;
  readonly valueAmount: ScaledAmount;
  readonly initialAmount: ScaledAmount;
  readonly maintenanceAmount: ScaledAmount;
  readonly notionalAmount: ScaledAmount;
  constructor(position: OptionPosition, underlyingMark: Decimal, market: Market, params: RiskParams) {
    this.instrument = position.instrument;
    const S = exactAmount(underlyingMark);
    const markPrice = optionMarkAmount(position, underlyingMark, market);
    const size = exactAmount(position.size);
    const units = absAmount(size);
    this.valueAmount = timesAsDecimal(size, markPrice);
    this.notionalAmount = timesAsDecimal(units, S);
    this.initialAmount = NO_AMOUNT;
    this.maintenanceAmount = NO_AMOUNT;
    if (size.value >= 0n) return;
    const rates = optionRates(params);
    const strike = exactAmount(position.strike);
    const minus = (a: ScaledAmount, b: ScaledAmount) => addAsDecimal(a, negateAmount(b));
    const max = (a: ScaledAmount, b: ScaledAmount) => (compareAmounts(a, b) >= 0 ? a : b);
    const otm =
      position.optionType === "call" ? max(minus(strike, S), NO_AMOUNT) : max(minus(S, strike), NO_AMOUNT);
    const initialPerUnit = addAsDecimal(
      max(minus(timesAsDecimal(rates.base, S), otm), timesAsDecimal(rates.floor, S)),
      markPrice,
    );
    const maintenanceOfMark = timesAsDecimal(rates.maintenance, S);
    if (position.optionType === "call") {
      this.maintenanceAmount = timesAsDecimal(addAsDecimal(maintenanceOfMark, markPrice), units);
      this.initialAmount = timesAsDecimal(initialPerUnit, units);
    } else {
      const maintenancePerUnit = addAsDecimal(
        max(maintenanceOfMark, timesAsDecimal(rates.maintenance, markPrice)),
        markPrice,
      );
      this.maintenanceAmount = timesAsDecimal(maintenancePerUnit, units);
      this.initialAmount = timesAsDecimal(max(initialPerUnit, maintenancePerUnit), units);
    }
  }
  get notional(): Decimal {
    return amountDecimal(this.notionalAmount);
  }
  get value(): Decimal {
    return amountDecimal(this.valueAmount);
  }
  get initialMargin(): Decimal {
    return amountDecimal(this.initialAmount);
  }
  get maintenanceMargin(): Decimal {
    return amountDecimal(this.maintenanceAmount);
  }
  /** The position's output strings, as the Decimal path prints them. */
  text() {
    return {
      notional: formatFixed(this.notionalAmount.value, this.notionalAmount.scale, "half-even"),
      unrealizedPnl: "0",
      funding: undefined,
      initialMargin: formatFixed(this.initialAmount.value, this.initialAmount.scale, "ceil"),
      maintenanceMargin: formatFixed(this.maintenanceAmount.value, this.maintenanceAmount.scale, "ceil"),
      value: formatFixed(this.valueAmount.value, this.valueAmount.scale, "floor"),
    };
  }
}

/** The short-option rates of a parameter set as amounts, once per set. */
const optionRateAmounts = new WeakMap<RiskParams, Record<"base" | "floor" | "maintenance", ScaledAmount>>();
function optionRates(params: RiskParams) {
  let rates = optionRateAmounts.get(params);
  if (!rates) {
    const { shortInitialBase, shortInitialFloor, shortMaintenance } = params.options;
    rates = {
      base: exactAmount(shortInitialBase),
      floor: exactAmount(shortInitialFloor),
      maintenance: exactAmount(shortMaintenance),
    };
    optionRateAmounts.set(params, rates);
  }
  return rates;
}

/** `markOption`'s mark price as an amount: given, or Black-76 through `fromModelFloat`'s 15 digits. */
function optionMarkAmount(position: OptionPosition, underlyingMark: Decimal, market: Market): ScaledAmount {
  if (position.markPrice) return exactAmount(position.markPrice);
  const vol = market.vols.get(position.underlying);
  // parsePortfolio guarantees a volatility for options without a markPrice.
  if (vol === undefined) throw new Error(`no volatility for ${position.underlying}`);
  return modelAmount(modelPrice(position, underlyingMark, market, vol));
}

/** An option book's sums (value, IM, MM), as decimal.js sums them. */
interface OptionSums {
  value: ScaledAmount;
  initial: ScaledAmount;
  maintenance: ScaledAmount;
}

/** The account totals: the kernel's integers, plus the options' sums when it holds any. */
class FixedAccountRisk implements AccountRisk {
  #amounts?: AccountAmounts;
  #decimals = new Map<string, Decimal>();
  constructor(
    readonly linear: FixedTotals,
    readonly positions: PositionFigures[],
    readonly options: OptionSums | null,
  ) {}
  #read(key: "equity" | "initial" | "maintenance" | "optionValue"): Decimal {
    let decimal = this.#decimals.get(key);
    if (!decimal) {
      decimal = amountDecimal(
        key === "optionValue" ? (this.options as OptionSums).value : this.amounts()[key],
      );
      this.#decimals.set(key, decimal);
    }
    return decimal;
  }
  get collateralValue() {
    return this.linear.collateralValue;
  }
  get unrealizedPnl() {
    return this.linear.unrealizedPnl;
  }
  get optionValue() {
    return this.options ? this.#read("optionValue") : ZERO;
  }
  get equity() {
    return this.options ? this.#read("equity") : this.linear.equity;
  }
  get initialMargin() {
    return this.options ? this.#read("initial") : this.linear.initialMargin;
  }
  get maintenanceMargin() {
    return this.options ? this.#read("maintenance") : this.linear.maintenanceMargin;
  }
  /** Without options: every total is an integer, or (IM) the Decimal path's sum of quotients. */
  get integral(): boolean {
    return this.options === null;
  }
  /** equity − MM at scale 54 (the options' part as decimal.js subtracts it), when exact. */
  excess54(): bigint | null {
    const linear = this.linear.collateral54 + this.linear.pnl54 - this.linear.maintenance54;
    if (!this.options) return linear;
    const options = addAsDecimal(this.options.value, negateAmount(this.options.maintenance));
    if (options.scale <= 54) return linear + options.value * powerOfTen(54 - options.scale);
    const divisor = powerOfTen(options.scale - 54);
    return options.value % divisor === 0n ? linear + options.value / divisor : null;
  }

  /**
   * The totals as exact amounts, each equal to the Decimal its getter returns (and `callAmount`)
   * without building one: the options' sums are added as decimal.js adds them, and a leg's
   * non-terminating IM quotient as `FixedTotals.initialMargin` adds it.
   */
  amounts(): AccountAmounts {
    this.#amounts ??= this.computeAmounts();
    return this.#amounts;
  }

  private computeAmounts(): AccountAmounts {
    const { linear, options } = this;
    const collateral = { value: linear.collateral54, scale: 54 };
    const unrealizedPnl = { value: linear.pnl54, scale: 54 };
    let equity: ScaledAmount = { value: linear.collateral54 + linear.pnl54, scale: 54 };
    let initial: ScaledAmount = { value: linear.initial54, scale: 54 };
    for (const { absSize, mark, maxLeverage } of linear.divided.legs) {
      // divideDown(|size| × mark, maxLeverage): the product at scale p over leverage at scale 18.
      const notional = timesAsDecimal(exactAmount(absSize), exactAmount(mark));
      const leverage = fixedParameter(maxLeverage);
      const legInitial =
        leverage === null
          ? exactAmount(divideDown(absSize.times(mark), maxLeverage))
          : digitsAmount(quotientDigits(notional.value, leverage, notional.scale - 18, "down"));
      initial = addAsDecimal(initial, legInitial);
    }
    let maintenance: ScaledAmount = { value: linear.maintenance54, scale: 54 };
    if (options) {
      equity = addAsDecimal(equity, options.value);
      initial = addAsDecimal(initial, options.initial);
      maintenance = addAsDecimal(maintenance, options.maintenance);
    }
    const shortfall = addAsDecimal(initial, negateAmount(equity));
    const call = shortfall.value > 0n ? shortfall : NO_AMOUNT;
    return { collateral, unrealizedPnl, equity, initial, maintenance, call };
  }
}

const NO_AMOUNT: ScaledAmount = { value: 0n, scale: 0 };

export class FixedAccountEvaluation {
  readonly risk: FixedAccountRisk;
  readonly status: AccountStatus;
  readonly liquidation = new Map<string, LiquidationSolution>();
  #marginRatio?: Decimal | null;
  #callAmount?: Decimal;

  constructor(
    readonly book: AccountBook,
    market: Market,
    params: RiskParams,
    compiled: CompiledBook,
    quotes: ReadonlyMap<string, FixedQuote>,
  ) {
    const linear = fixedLinearTotals(compiled, quotes, market, false);
    let options: OptionSums | null = null;
    const positions = book.positions.map((position, i): PositionFigures => {
      const compiledLeg = compiled.legs[i];
      if (compiledLeg)
        return new FixedLinearFigures(
          compiledLeg.leg,
          compiledLeg.group,
          quotes.get(position.underlying) as FixedQuote,
        );
      if (position.kind !== "option") throw new Error(`uncompiled position ${position.instrument}`);
      const mark = (market.quotes.get(position.underlying) as { mark: Decimal }).mark;
      return new FixedOptionFigures(position, mark, market, params);
    });
    if (compiled.options.length > 0) {
      // Summed in instrument order, as the Decimal path and the kernel sum them.
      options = { value: NO_AMOUNT, initial: NO_AMOUNT, maintenance: NO_AMOUNT };
      for (const option of compiled.options) {
        const figures = positions[book.positions.indexOf(option)] as FixedOptionFigures;
        options.value = addAsDecimal(options.value, figures.valueAmount);
        options.initial = addAsDecimal(options.initial, figures.initialAmount);
        options.maintenance = addAsDecimal(options.maintenance, figures.maintenanceAmount);
      }
    }
    this.risk = new FixedAccountRisk(linear, positions, options);
    const { warningBuffer } = params.status;
    this.status = options ? amountsStatus(this.amounts(), warningBuffer) : linear.status(warningBuffer);

    const excess54 = this.risk.excess54();
    for (const position of book.positions) {
      const { underlying } = position;
      if (position.kind !== "linear" || position.size.isZero() || this.liquidation.has(underlying)) continue;
      const group = compiled.linear.find((g) => g.underlying === underlying) as LinearGroup;
      const linearOnly = !compiled.options.some((o) => o.underlying === underlying);
      const solution =
        (linearOnly && excess54 !== null
          ? closedFormLiquidation(group, quotes.get(underlying) as FixedQuote, excess54)
          : undefined) ??
        liquidationPrice(
          book,
          market,
          params,
          underlying,
          false,
          this.excessAtMark(),
          this.sliceAtMark(underlying),
        );
      this.liquidation.set(underlying, solution);
    }
  }

  /** risk.equity − risk.maintenanceMargin, for the certified search. */
  private excessAtMark(): ScaledAmount {
    const { equity, maintenance } = this.amounts();
    return addAsDecimal(equity, negateAmount(maintenance));
  }

  /**
   * equity − MM of the positions on one underlying (Σ uPnL + value − MM, summed as Decimals
   * in the book's order), for the certified search.
   */
  private sliceAtMark(underlying: string): ScaledAmount {
    let slice: ScaledAmount = { value: 0n, scale: 0 };
    this.book.positions.forEach((position, i) => {
      if (position.underlying !== underlying) return;
      const figures = this.risk.positions[i] as PositionFigures;
      if (figures instanceof FixedLinearFigures) {
        slice = addAsDecimal(slice, { value: figures.pnl36, scale: 36 });
        slice = addAsDecimal(slice, { value: -figures.maintenance54, scale: 54 });
      } else {
        const option = figures as FixedOptionFigures;
        slice = addAsDecimal(slice, option.valueAmount);
        slice = addAsDecimal(slice, negateAmount(option.maintenanceAmount));
      }
    });
    return slice;
  }

  get marginRatio(): Decimal | null {
    if (this.#marginRatio === undefined)
      this.#marginRatio = marginRatio(this.risk.equity, this.risk.maintenanceMargin);
    return this.#marginRatio;
  }

  get callAmount(): Decimal {
    this.#callAmount ??= callAmount(this.risk.equity, this.risk.initialMargin);
    return this.#callAmount;
  }

  /** The totals as exact amounts (`FixedAccountRisk.amounts`). */
  amounts(): AccountAmounts {
    return this.risk.amounts();
  }

  /** The totals' output strings, printed from the integers when the account is purely fixed-point. */
  text() {
    const { risk } = this;
    if (!risk.integral) return this.optionsText();
    const { collateral54, pnl54, initial54, maintenance54, divided } = risk.linear;
    const equity54 = collateral54 + pnl54;
    // IM: the integer part, plus each leg whose 1/maxLeverage does not terminate, added as
    // FixedTotals adds them (Decimal quotients, in instrument order).
    let initial: ScaledAmount = { value: initial54, scale: 54 };
    if (divided.legs.length > 0)
      for (const figures of this.dividedFigures()) initial = addAsDecimal(initial, figures.initialAmount());
    const call = addAsDecimal(initial, { value: -equity54, scale: 54 });
    let ratio: string | null = null;
    if (equity54 > 0n) {
      // MM / equity truncated at 50 significant digits, as divideDown, then rounded up.
      const amount = digitsAmount(quotientDigits(maintenance54, equity54, 0, "down"));
      ratio = formatFixed(amount.value, amount.scale, "ceil");
    }
    return {
      collateralValue: formatFixed(collateral54, 54, "floor"),
      unrealizedPnl: formatFixed(pnl54, 54, "floor"),
      optionValue: "0",
      equity: formatFixed(equity54, 54, "floor"),
      initialMargin: formatFixed(initial.value, initial.scale, "ceil"),
      maintenanceMargin: formatFixed(maintenance54, 54, "ceil"),
      marginRatio: ratio,
      callAmount: call.value > 0n ? formatFixed(call.value, call.scale, "ceil") : "0",
    };
  }

  /** `totalsText` of an account with options, printed from its exact amounts (equal to its getters). */
  private optionsText() {
    const { equity, initial, maintenance, call } = this.amounts();
    const optionValue = (this.risk.options as OptionSums).value;
    let ratio: string | null = null;
    if (equity.value > 0n) {
      // MM / equity truncated at 50 significant digits (divideDown), then rounded up.
      const quotient = quotientDigits(
        maintenance.value,
        equity.value,
        maintenance.scale - equity.scale,
        "down",
      );
      const amount = digitsAmount(quotient);
      ratio = formatFixed(amount.value, amount.scale, "ceil");
    }
    const text = (amount: ScaledAmount, rounding: "ceil" | "floor") =>
      formatFixed(amount.value, amount.scale, rounding);
    return {
      collateralValue: formatFixed(this.risk.linear.collateral54, 54, "floor"),
      unrealizedPnl: formatFixed(this.risk.linear.pnl54, 54, "floor"),
      optionValue: text(optionValue, "floor"),
      equity: text(equity, "floor"),
      initialMargin: text(initial, "ceil"),
      maintenanceMargin: text(maintenance, "ceil"),
      marginRatio: ratio,
      callAmount: text(call, "ceil"),
    };
  }

  /** The perps and futures whose IM is a non-terminating quotient, in instrument order. */
  private dividedFigures(): FixedLinearFigures[] {
    return this.risk.positions
      .filter((f): f is FixedLinearFigures => f instanceof FixedLinearFigures && f.initial54 === null)
      .sort((x, y) => (x.instrument < y.instrument ? -1 : x.instrument > y.instrument ? 1 : 0));
  }
}

/** An evaluation's totals as the account document prints them, from its Decimals. */
export function totalsText(evaluation: {
  risk: AccountRisk;
  marginRatio: Decimal | null;
  callAmount: Decimal;
}) {
  const { risk, marginRatio: ratio } = evaluation;
  return {
    collateralValue: valueString(risk.collateralValue),
    unrealizedPnl: valueString(risk.unrealizedPnl),
    optionValue: valueString(risk.optionValue),
    equity: valueString(risk.equity),
    initialMargin: requirementString(risk.initialMargin),
    maintenanceMargin: requirementString(risk.maintenanceMargin),
    marginRatio: ratio ? requirementString(ratio) : null,
    callAmount: requirementString(evaluation.callAmount),
  };
}

/** 1 + warning buffer, per buffer (a parameter: the same Decimal for every account). */
const warningFactors = new WeakMap<Decimal, ScaledAmount>();

/** `statusOf` on the totals' exact amounts: IM × (1 + buffer) rounded as decimal.js rounds it. */
function amountsStatus(amounts: AccountAmounts, warningBuffer: Decimal): AccountStatus {
  const { equity, initial, maintenance } = amounts;
  if (compareAmounts(equity, maintenance) < 0) return "LIQUIDATION";
  if (compareAmounts(equity, initial) < 0) return "MARGIN_CALL";
  let factor = warningFactors.get(warningBuffer);
  if (!factor) {
    factor = exactAmount(ONE.plus(warningBuffer));
    warningFactors.set(warningBuffer, factor);
  }
  return compareAmounts(equity, timesAsDecimal(initial, factor)) < 0 ? "WARNING" : "HEALTHY";
}

/**
 * Which bracket a notional falls in just above it (side +1) or just below it (−1). A walk that
 * stepped onto an edge P = cap / |size| has |size| × P within a rounding of the cap: within 1e-12
 * it counts as on the cap, so the next step leaves the bracket instead of finding it again.
 */
function bracketIndex(caps: readonly number[], notional: number, side: number): number {
  for (let i = 0; i < caps.length; i++) {
    const cap = caps[i] as number;
    if (side === 1 ? cap > notional * (1 + 1e-12) : cap >= notional * (1 - 1e-12)) return i;
  }
  return caps.length;
}

/**
 * The liquidation price of an underlying whose positions are all perps and futures (DESIGN §3.3),
 * in closed form on the compiled book. With the legs' brackets fixed, f(P) = equity − MM is linear:
 *   f(P) = excess + Σsize·(P − mark) − MM_slice(P) + MM_slice(mark),  MM_slice(P) = P·Σ|size|·mmr − Σcum,
 * so P = −K / s with s = Σsize − Σ|size|·mmr and K = excess − Σsize·mark + MM_slice(mark) + Σcum.
 * Which brackets hold at the root is guessed by the same float64 segment walk as the Decimal
 * path's, then the root is solved exactly for them (a fraction of integers) and kept only if every
 * leg's bracket holds exactly at it. Undefined when the guess is not conclusive: the Decimal
 * path's exact walk then decides. The price is the fraction at the Decimal path's 50 significant
 * digits, so it prints the same.
 */
function closedFormLiquidation(
  group: LinearGroup,
  quote: FixedQuote,
  excess54: bigint,
): LiquidationSolution | undefined {
  const { underlying, capEdges: caps, mmrs, legs } = group;
  if (quote.mark <= 0n) return { underlying, price: null, method: "closed-form", direction: 0 };
  let point = quote.markFloat;
  let value = Number(excess54) / 1e54;
  let side = 1;
  let moved = 0;
  let root = Number.NaN;
  const open = legs.filter((leg) => leg.absSize !== 0n).length;
  for (let step = 0; step < 2 + open * (caps.length + 2); step++) {
    let from = 0;
    let to = Number.POSITIVE_INFINITY;
    let slope = 0;
    for (const leg of legs) {
      if (leg.absSize === 0n) continue;
      const i = bracketIndex(caps, leg.absSizeFloat * point, side);
      if (i > 0) from = Math.max(from, (caps[i - 1] as number) / leg.absSizeFloat);
      if (i < caps.length) to = Math.min(to, (caps[i] as number) / leg.absSizeFloat);
      slope += leg.sizeFloat - leg.absSizeFloat * (mmrs[i] as number);
    }
    if (slope === 0) return undefined;
    root = point - value / slope;
    const direction = root < from ? -1 : root > to ? 1 : 0;
    if (direction === 0) break;
    const edge = direction === -1 ? from : to;
    if ((direction === -1 && from === 0) || direction === -moved) {
      // No root on this side; trusted only when the float root is far from the edge it fails at.
      return Math.abs(root - edge) > 1e-6 * Math.max(point, 1)
        ? { underlying, price: null, method: "closed-form", direction: 0 }
        : undefined;
    }
    value += slope * (edge - point);
    point = edge;
    side = direction;
    moved = direction;
  }
  if (!(root > 0)) return undefined;

  const key = assignmentKey(group, (leg) =>
    leg.absSize === 0n ? 0 : bracketIndex(caps, leg.absSizeFloat * root, 1),
  );
  const atRoot = bracketSums(group, key);
  const atMark = bracketSums(group, bracketKey(group, quote.mark, quote.markFloat));
  const maintenanceAtMark = quote.mark * atMark.mmCoefficient - atMark.cum;
  const constant = excess54 - group.netSize * quote.mark * SCALE_UNIT + maintenanceAtMark + atRoot.cum;
  const slope = group.netSize * SCALE_UNIT - atRoot.mmCoefficient;
  if (slope === 0n) return undefined;
  // P at scale 18 = numerator / denominator, denominator > 0.
  const numerator = slope > 0n ? -constant : constant;
  const denominator = slope > 0n ? slope : -slope;
  if (numerator <= 0n) return undefined;
  for (let l = 0; l < legs.length; l++) {
    const leg = legs[l] as Leg;
    if (leg.absSize === 0n) continue;
    const b = bracketOfLeg(key, l);
    const notional = leg.absSize * numerator; // × 10^36 / denominator
    if (b > 0 && notional < (group.exactCaps[b - 1] as bigint) * denominator) return undefined;
    if (b < caps.length && notional > (group.exactCaps[b] as bigint) * denominator) return undefined;
  }
  return new ClosedFormSolution(underlying, numerator, denominator * SCALE_UNIT, slope > 0n ? 1 : -1);
}

/**
 * A closed-form liquidation price: numerator / denominator at the Decimal path's 50 significant
 * digits, built as a Decimal only when read; `text` prints it as `liquidationString` does.
 */
export class ClosedFormSolution implements LiquidationSolution {
  readonly method = "closed-form" as const;
  #price?: Decimal;
  private readonly digits: { coefficient: bigint; exponent: number };
  constructor(
    readonly underlying: string,
    numerator: bigint,
    denominator: bigint,
    readonly direction: 1 | -1,
  ) {
    this.digits = quotientDigits(numerator, denominator, 0, "half-up");
  }
  get price(): Decimal {
    this.#price ??= new Decimal(`${this.digits.coefficient}e${this.digits.exponent}`);
    return this.#price;
  }
  /** The price as an exact amount (equal to `price`). */
  amount(): ScaledAmount {
    return digitsAmount(this.digits);
  }
  /** Rounded toward the mark, as `liquidationString`. */
  text(): string {
    const amount = digitsAmount(this.digits);
    return formatFixed(amount.value, amount.scale, this.direction === -1 ? "floor" : "ceil");
  }
}
