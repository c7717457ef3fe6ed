import { byInstrument, sortSmall } from "./account.ts";
import { black76Price } from "./black76.ts";
import { type AccountBook, type Market, type Position, withMark } from "./book.ts";
import { Decimal, decimalFloat, dmax, ZERO } from "./decimal.ts";
import { decimalDigits, marginTotals } from "./kernel.ts";
import { linearFigures, optionFigures, yearsToExpiry } from "./margin.ts";
import type { Bracket, RiskParams } from "./params.ts";
import { amountDecimal, type ScaledAmount } from "./scaled.ts";

/** How a liquidation price was found, for the explain trace. */
export interface LiquidationSolution {
  underlying: string;
  price: Decimal | null;
  method: "closed-form" | "bracketed-search";
  /** +1: the account is liquidated when the price falls to `price`; −1: when it rises to it. */
  direction: 1 | -1 | 0;
  segments?: { from: Decimal; to: Decimal | null; root: Decimal | null }[];
}

/**
 * equity − MM as a function of one underlying's mark P, all other prices fixed. Only positions on
 * that underlying (and, in portfolio mode, collateral in it) depend on P, so f(P) = f(P0) − g(P0)
 * + g(P) with g evaluated on that slice of the book.
 */
function excessFunction(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  underlying: string,
  excessAtMark?: KnownFigure,
  sliceAtMark?: KnownFigure,
) {
  const slice: AccountBook = {
    ...book,
    collateral: book.marginMode === "portfolio" ? book.collateral.filter((c) => c.asset === underlying) : [],
    positions: book.positions.filter((p) => p.underlying === underlying),
  };
  const brackets = params.brackets.get(underlying) ?? [];
  // Standard model: the slice's equity − MM is Σ uPnL + option value − MM of its positions at P,
  // the same exact figures the kernel sums, without building a market per trial price.
  const sliceExcess =
    book.marginMode === "standard"
      ? (price: Decimal) => {
          let excess = ZERO;
          for (const position of slice.positions) {
            const figures =
              position.kind === "linear"
                ? linearFigures(position, price, brackets, false)
                : optionFigures(position, price, market, params, false);
            excess = excess.plus(figures.unrealizedPnl).plus(figures.value).minus(figures.maintenanceMargin);
          }
          return excess;
        }
      : (price: Decimal) => {
          const totals = marginTotals(slice, withMark(market, underlying, price), params);
          return totals.equity.minus(totals.maintenanceMargin);
        };
  const mark = market.quotes.get(underlying)?.mark ?? ZERO;
  // Made on the first exact trial: a search certified by its floats never needs it.
  let constant: Decimal | undefined;
  return (price: Decimal) => {
    constant ??= (excessAtMark ? figureDecimal(excessAtMark) : excessOf(book, market, params)).minus(
      sliceAtMark ? figureDecimal(sliceAtMark) : sliceExcess(mark),
    );
    return constant.plus(sliceExcess(price));
  };
}

function excessOf(book: AccountBook, market: Market, params: RiskParams): Decimal {
  const totals = marginTotals(book, market, params);
  return totals.equity.minus(totals.maintenanceMargin);
}

/**
 * An exact figure the caller already has: a Decimal, or an integer amount (the fixed-point
 * evaluation's) that becomes a Decimal only if a search needs it exactly.
 */
export type KnownFigure = Decimal | ScaledAmount;

const figureDecimal = (figure: KnownFigure): Decimal =>
  Decimal.isDecimal(figure) ? (figure as Decimal) : amountDecimal(figure as ScaledAmount);

/** The figure's float, bit for bit its Decimal's `toNumber()` (both parse the exact digits once). */
const figureFloat = (figure: KnownFigure): number =>
  Decimal.isDecimal(figure)
    ? (figure as Decimal).toNumber()
    : Number(`${(figure as ScaledAmount).value}e-${(figure as ScaledAmount).scale}`);

/** f is piecewise linear in P in the standard model unless an option is marked by Black-76. */
function isPiecewiseLinear(book: AccountBook, underlying: string): boolean {
  return (
    book.marginMode === "standard" &&
    book.positions.every((p) => p.underlying !== underlying || p.kind === "linear" || p.markPrice !== null)
  );
}

/**
 * The mark of `underlying` at which equity = MM (DESIGN §3.3), all other prices fixed.
 *
 * Standard model without Black-76 options: f(P) = equity − MM is linear between the breakpoints
 * (bracket edges P = cap / |size|, a short put's kink at S = markPrice), with slope
 *   Σ_linear (size − |size| × mmr_bracket) − Σ_short calls maint·|n| − Σ_short puts above the kink maint·|n|.
 * Start in the segment holding the current mark with f(mark) from the evaluation, solve the line
 * in closed form; if the root falls outside the segment, carry f to the segment's edge (f is
 * continuous) and solve again in the neighbouring segment with its own brackets — Binance's
 * "substitute that tier's MMR and cum and recompute". Null when no root exists in (0, ∞).
 * To save Decimal work the same walk is first run in float64 only to guess the final segment; the
 * root is then solved exactly there and kept if the brackets check out exactly at it (else, and
 * for --explain, the exact walk runs). Both give the same answer (property-tested).
 *
 * Otherwise (Black-76 options, portfolio grid) f is not linear: the nearest sign change is
 * bracketed and refined by regula falsi (Illinois) to 1e-14 relative.
 */
export function liquidationPrice(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  underlying: string,
  explain = false,
  excessAtMark?: KnownFigure,
  /** Standard model: Σ uPnL + value − MM of the positions on `underlying` at the mark, if known. */
  sliceAtMark?: KnownFigure,
): LiquidationSolution {
  const mark = market.quotes.get(underlying)?.mark ?? ZERO;
  if (!mark.gt(0)) return { underlying, price: null, method: "closed-form", direction: 0 };
  if (!isPiecewiseLinear(book, underlying)) {
    const f = excessFunction(
      book,
      market,
      params,
      underlying,
      excessAtMark,
      book.marginMode === "standard" ? sliceAtMark : undefined,
    );
    if (!explain && book.marginMode === "standard") {
      const fast = solveOptionsFromFloat(book, market, params, underlying, f, excessAtMark);
      if (fast) return fast;
    }
    return solveBracketed(f, mark, underlying);
  }
  const excess = excessAtMark ? figureDecimal(excessAtMark) : excessOf(book, market, params);
  if (!explain) {
    const fast = solveFromFloatGuess(book, params, underlying, mark, excess);
    if (fast) return fast;
  }
  return solveSegments(book, params, underlying, mark, excess, explain);
}

const EDGE_TOLERANCE = new Decimal("1e-40");

interface Segment {
  from: Decimal;
  to: Decimal | null;
  slope: Decimal;
}

/**
 * The linear piece of f next to `point` on `side` (+1: just above it, −1: just below): its edges
 * (the nearest bracket edges P = cap / |size| of every leg, and put kinks) and its slope
 *   Σ_linear (size − |size| × mmr) − Σ_short calls maint·|n| − Σ_short puts past the kink maint·|n|.
 */
function segmentAt(
  book: AccountBook,
  params: RiskParams,
  underlying: string,
  point: Decimal,
  side: 1 | -1,
): Segment {
  let from = ZERO;
  let to: Decimal | null = null;
  let slope = ZERO;
  const lowerEdge = (edge: Decimal) => {
    if (edge.gt(from)) from = edge;
  };
  const upperEdge = (edge: Decimal) => {
    if (to === null || edge.lt(to)) to = edge;
  };
  const maintenance = params.options.shortMaintenance;
  const brackets = params.brackets.get(underlying) ?? [];
  for (const position of book.positions) {
    if (position.underlying !== underlying || position.size.isZero()) continue;
    const units = position.size.abs();
    if (position.kind === "linear") {
      const notional = units.times(point);
      // A point on an edge is cap / |size| rounded at 50 digits: treat a notional within 1e-40 of a
      // cap as on it, and let the side decide which bracket is next to it.
      const onOrPast = (cap: Decimal) =>
        notional.gte(cap) || cap.minus(notional).lte(cap.times(EDGE_TOLERANCE));
      const onOrBelow = (cap: Decimal) =>
        notional.lte(cap) || notional.minus(cap).lte(cap.times(EDGE_TOLERANCE));
      let index = brackets.findIndex((b) =>
        side === 1 ? !onOrPast(b.notionalCap) : onOrBelow(b.notionalCap),
      );
      if (index < 0) index = brackets.length - 1;
      const bracket = brackets[index];
      const below = brackets[index - 1];
      if (below) lowerEdge(below.notionalCap.div(units));
      if (bracket && index < brackets.length - 1) upperEdge(bracket.notionalCap.div(units));
      slope = slope.plus(position.size).minus(units.times(bracket?.mmr ?? ZERO));
    } else if (position.size.isNegative()) {
      if (position.optionType === "call") {
        slope = slope.minus(maintenance.times(units));
      } else {
        const kink = position.markPrice ?? ZERO;
        const pastKink = side === 1 ? point.gte(kink) : point.gt(kink);
        if (pastKink) {
          lowerEdge(kink);
          slope = slope.minus(maintenance.times(units));
        } else upperEdge(kink);
      }
    }
  }
  return { from, to, slope };
}

function solveSegments(
  book: AccountBook,
  params: RiskParams,
  underlying: string,
  mark: Decimal,
  excessAtMark: Decimal,
  explain: boolean,
): LiquidationSolution {
  let point = mark;
  let excess = excessAtMark;
  let side: 1 | -1 = 1;
  let moved: 1 | -1 | 0 = 0;
  const trace: NonNullable<LiquidationSolution["segments"]> | undefined = explain ? [] : undefined;
  const result = (price: Decimal | null, direction: 1 | -1 | 0): LiquidationSolution => ({
    underlying,
    price,
    method: "closed-form",
    direction,
    ...(trace ? { segments: trace } : {}),
  });
  // Each step crosses one edge; there are at most (brackets + 1) × positions edges.
  const maxSteps = 2 + book.positions.length * ((params.brackets.get(underlying)?.length ?? 0) + 1);
  for (let step = 0; step < maxSteps; step++) {
    const { from, to, slope } = segmentAt(book, params, underlying, point, side);
    if (slope.isZero()) {
      trace?.push({ from, to, root: null });
      return result(null, 0);
    }
    const root = point.minus(excess.div(slope));
    trace?.push({ from, to, root });
    const direction = root.lt(from) ? -1 : to && root.gt(to) ? 1 : 0;
    if (direction === 0) return result(root.gt(0) ? root : null, slope.isPositive() ? 1 : -1);
    // Turning back means the neighbour already pointed here: f has no root on this side.
    if ((direction === -1 && from.isZero()) || direction === -moved) return result(null, 0);
    const edge = direction === -1 ? from : (to as Decimal);
    excess = excess.plus(slope.times(edge.minus(point)));
    point = edge;
    side = direction;
    moved = direction;
  }
  return result(null, 0);
}

interface FloatLeg {
  kind: "linear" | "call" | "put";
  size: number;
  units: number;
  kink: number;
  position: AccountBook["positions"][number];
}

/**
 * The same segment walk in float64, only to guess which brackets hold at the root; the root itself
 * is then solved exactly for that assignment and accepted only if the assignment checks out exactly
 * at the root. Undefined when the guess is not conclusive (the exact walk then decides).
 */
function solveFromFloatGuess(
  book: AccountBook,
  params: RiskParams,
  underlying: string,
  mark: Decimal,
  excess: Decimal,
): LiquidationSolution | undefined {
  const brackets = params.brackets.get(underlying) ?? [];
  const caps = brackets.map((b) => b.notionalCap.toNumber());
  const mmrs = brackets.map((b) => b.mmr.toNumber());
  const maintenance = params.options.shortMaintenance.toNumber();
  const legs: FloatLeg[] = [];
  for (const position of book.positions) {
    if (position.underlying !== underlying || position.size.isZero()) continue;
    if (position.kind === "option" && !position.size.isNegative()) continue;
    const size = position.size.toNumber();
    const kind = position.kind === "linear" ? "linear" : position.optionType;
    legs.push({
      kind,
      size,
      units: Math.abs(size),
      kink: position.kind === "option" ? (position.markPrice?.toNumber() ?? 0) : 0,
      position,
    });
  }
  const bracketIndex = (notional: number, side: number) => {
    const i = caps.findIndex((cap) => (side === 1 ? cap > notional : cap >= notional));
    return i < 0 ? caps.length - 1 : i;
  };
  let point = mark.toNumber();
  let value = excess.toNumber();
  let side = 1;
  let moved = 0;
  let root = Number.NaN;
  for (let step = 0; step < 2 + legs.length * (caps.length + 1); step++) {
    let from = 0;
    let to = Number.POSITIVE_INFINITY;
    let slope = 0;
    for (const leg of legs) {
      if (leg.kind === "linear") {
        const i = bracketIndex(leg.units * point, side);
        if (i > 0) from = Math.max(from, (caps[i - 1] as number) / leg.units);
        if (i < caps.length - 1) to = Math.min(to, (caps[i] as number) / leg.units);
        slope += leg.size - leg.units * (mmrs[i] as number);
      } else if (leg.kind === "call") slope -= maintenance * leg.units;
      else if (side === 1 ? point >= leg.kink : point > leg.kink) {
        from = Math.max(from, leg.kink);
        slope -= maintenance * leg.units;
      } else to = Math.min(to, leg.kink);
    }
    if (slope === 0) return undefined;
    root = point - value / slope;
    const direction = root < from ? -1 : root > to ? 1 : 0;
    if (direction === 0) break;
    if ((direction === -1 && from === 0) || direction === -moved) {
      // No root on this side; trust it only when the float root is far from the edge it fails at.
      const edge = direction === -1 ? from : to;
      return Math.abs(root - edge) > 1e-6 * Math.max(point, 1)
        ? { underlying, price: null, method: "closed-form", direction: 0 }
        : undefined;
    }
    const edge = direction === -1 ? from : to;
    value += slope * (edge - point);
    point = edge;
    side = direction;
    moved = direction;
  }
  if (!(root > 0)) return undefined;

  // Exact: f(P) = excess − g(mark) + g(P), g(P) = s·P + c inside the guessed segment.
  const m = params.options.shortMaintenance;
  let slope = ZERO;
  let intercept = ZERO;
  let gAtMark = ZERO;
  for (const leg of legs) {
    const units = leg.position.size.abs();
    if (leg.position.kind === "linear") {
      const guess = brackets[bracketIndex(leg.units * root, 1)] as (typeof brackets)[number];
      const atMark = brackets[bracketIndex(leg.units * mark.toNumber(), 0)] as (typeof brackets)[number];
      slope = slope.plus(leg.position.size).minus(units.times(guess.mmr));
      intercept = intercept.plus(guess.cum);
      const notionalAtMark = units.times(mark);
      if (!bracketHolds(brackets, atMark, notionalAtMark)) return undefined;
      gAtMark = gAtMark
        .plus(leg.position.size.times(mark))
        .minus(notionalAtMark.times(atMark.mmr))
        .plus(atMark.cum);
    } else {
      const markPrice = leg.position.kind === "option" ? (leg.position.markPrice ?? ZERO) : ZERO;
      const pastKinkAtRoot = leg.kind === "call" || root >= leg.kink;
      if (pastKinkAtRoot) {
        slope = slope.minus(m.times(units));
        intercept = intercept.minus(markPrice.times(units));
      } else intercept = intercept.minus(m.times(markPrice).plus(markPrice).times(units));
      const perUnitAtMark = leg.kind === "call" ? m.times(mark) : dmax(m.times(mark), m.times(markPrice));
      gAtMark = gAtMark.minus(perUnitAtMark.plus(markPrice).times(units));
    }
  }
  if (slope.isZero()) return undefined;
  const price = excess.minus(gAtMark).plus(intercept).neg().div(slope);
  if (!price.gt(0)) return undefined;
  for (const leg of legs) {
    if (leg.position.kind === "linear") {
      const guess = brackets[bracketIndex(leg.units * root, 1)] as (typeof brackets)[number];
      if (!bracketHolds(brackets, guess, leg.position.size.abs().times(price))) return undefined;
    } else if (
      leg.kind === "put" &&
      root >= leg.kink !== price.gte(leg.position.kind === "option" ? (leg.position.markPrice ?? ZERO) : ZERO)
    ) {
      return undefined;
    }
  }
  return { underlying, price, method: "closed-form", direction: slope.isPositive() ? 1 : -1 };
}

/** Does `bracket` hold at `notional` (edges included: MM is continuous there)? */
function bracketHolds(brackets: readonly Bracket[], bracket: Bracket, notional: Decimal): boolean {
  const below = brackets[bracket.index - 1];
  const isLast = bracket.index === brackets.length - 1;
  return (!below || notional.gte(below.notionalCap)) && (isLast || notional.lte(bracket.notionalCap));
}

/** 1 ∓ 1e-12 as integers × 10^-12: the certificate's two trial points around a float root. */
const CERTIFY_BELOW = 999_999_999_999n;
const CERTIFY_ABOVE = 1_000_000_000_001n;

/**
 * Standard model with Black-76 options: the same outward search and Illinois refinement as
 * `solveBracketed`, run on a float64 copy of the slice's excess (linear legs with their brackets,
 * options re-marked by Black-76 at each trial price), then certified exactly: the exact excess must
 * change sign across [P·(1 − 1e-12), P·(1 + 1e-12)] around the returned P (the root to 15 digits). Undefined when the float search finds no
 * root or the certificate fails; the exact search then decides. "No root" is trusted only after
 * the probes whose float value is within rounding noise of zero are re-checked exactly. Saves
 * ~50 exact evaluations per solve.
 */
function solveOptionsFromFloat(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  underlying: string,
  exact: (price: Decimal) => Decimal,
  excessAtMark: KnownFigure | undefined,
): LiquidationSolution | undefined {
  const brackets = floatBrackets(params.brackets.get(underlying) ?? []);
  const maintenance = decimalFloat(params.options.shortMaintenance);
  const vol = market.vols.get(underlying);
  // In instrument order (unique in a book), not the input's: float sums depend on their order,
  // and the root's last printed digit must not depend on how the positions were listed.
  const legs: Position[] = [];
  for (const p of book.positions) if (p.underlying === underlying && !p.size.isZero()) legs.push(p);
  sortSmall(legs, byInstrument);
  const linear: { size: number; entry: number; funding: number }[] = [];
  const options: { type: "call" | "put"; size: number; strike: number; years: number; given?: number }[] = [];
  for (const p of legs) {
    if (p.kind === "linear")
      linear.push({
        size: decimalFloat(p.size),
        entry: decimalFloat(p.entryPrice),
        funding: decimalFloat(p.funding),
      });
    else
      options.push({
        type: p.optionType,
        size: decimalFloat(p.size),
        strike: decimalFloat(p.strike),
        years: yearsToExpiry(p, market.asOfMs),
        given: p.markPrice ? decimalFloat(p.markPrice) : undefined,
      });
  }
  if (options.some((o) => o.given === undefined) && vol === undefined) return undefined;
  // What a `slice` summed, in absolute terms, and its options' |size| × mark: the error bound,
  // filled in only where a certificate needs it (a double the closure wrote on every probe
  // would be a new heap number each time).
  const terms = { absolute: 0, optionMarks: 0 };
  /** equity − MM of the slice at price P, in float64; with `bound`, also its error terms. */
  const slice = (P: number, bound?: typeof terms) => {
    let g = 0;
    let absoluteTerms = 0;
    let optionMarks = 0;
    for (const leg of linear) {
      const notional = Math.abs(leg.size) * P;
      let bracket = brackets[brackets.length - 1];
      for (const b of brackets)
        if (notional <= b.cap) {
          bracket = b;
          break;
        }
      g += leg.size * (P - leg.entry) + leg.funding - (notional * (bracket?.mmr ?? 0) - (bracket?.cum ?? 0));
      absoluteTerms +=
        notional * 2 + Math.abs(leg.size * leg.entry) + Math.abs(leg.funding) + (bracket?.cum ?? 0);
    }
    for (const o of options) {
      const mark = o.given ?? black76Price(o.type, P, o.strike, o.years, vol as number);
      optionMarks += Math.abs(o.size) * mark;
      absoluteTerms += Math.abs(o.size) * (3 * mark + maintenance * P);
      g += o.size * mark;
      if (o.size < 0) {
        const perUnit = o.type === "call" ? maintenance * P : Math.max(maintenance * P, maintenance * mark);
        g -= (perUnit + mark) * -o.size;
      }
    }
    if (bound) {
      bound.absolute = absoluteTerms;
      bound.optionMarks = optionMarks;
    }
    return g;
  };
  const mark = decimalFloat(market.quotes.get(underlying)?.mark ?? ZERO);
  const offset =
    (excessAtMark ? figureFloat(excessAtMark) : exact(new Decimal(mark)).toNumber()) - slice(mark);
  const f = (P: number) => offset + slice(P);
  const f0 = f(mark);
  if (f0 === 0) return undefined;
  const positive = f0 > 0;
  let low: number | undefined;
  let high: number | undefined;
  let lowPrev = mark;
  let highPrev = mark;
  // Each probe and f there, kept for the no-root check below.
  const probes: number[] = [];
  const values: number[] = [];
  const probe = (p: number) => {
    const value = f(p);
    probes.push(p);
    values.push(value);
    return value > 0 !== positive;
  };
  for (let i = 0; i < UPWARD_FACTORS.length && low === undefined; i++) {
    const down = SEARCH_FACTORS[i];
    if (down !== undefined) {
      const p = mark * (1 - down);
      if (probe(p)) [low, high] = [p, lowPrev];
      lowPrev = p;
    }
    if (low !== undefined) break;
    const p = mark * (1 + (UPWARD_FACTORS[i] as number));
    if (probe(p)) [low, high] = [highPrev, p];
    highPrev = p;
  }
  if (low === undefined || high === undefined) {
    // No sign change at any probe. Float64 can only be wrong about a probe's sign where |f| is
    // within its rounding noise of zero: re-check those few exactly; if none flips, there is no root.
    const scale = Math.abs(offset) + legs.reduce((n, p) => n + Math.abs(decimalFloat(p.size)) * mark * 10, 0);
    const flips = probes.some(
      (p, i) => Math.abs(values[i] as number) <= 1e-9 * scale && exact(new Decimal(p)).gt(0) !== positive,
    );
    return flips ? undefined : { underlying, price: null, method: "bracketed-search", direction: 0 };
  }
  const { a, b, direction } = illinois(f, low, high, 1e-15);
  const root = 0.5 * (a + b);
  if (!(root > 0)) return undefined;
  const price = new Decimal(root.toPrecision(15));
  // The exact excess's sign at a point, from the float one when that is farther from zero than
  // the float can be off. The two differ by the float sums' rounding (≤ ~1.1e-16 of the terms
  // per operation, a few per leg: 1e-15 × (1 + legs) of them bounds it) and by each option mark's
  // rounding to 15 digits in the exact path (≤ 5e-15 of it, entering value and MM up to 3 times:
  // 2e-14 × |size| × mark), at the point and at the mark (the offset). Else the exact excess decides.
  slice(mark, terms);
  const atMark = 1e-15 * (1 + legs.length) * (terms.absolute + Math.abs(offset)) + 2e-14 * terms.optionMarks;
  // The trial points price × (1 ∓ 1e-12): exact products (27 digits), as Decimals only if needed.
  const digits = decimalDigits(price) as { coefficient: bigint; exponent: number };
  const negativeAt = (factor: bigint) => {
    const text = `${digits.coefficient * factor}e${digits.exponent - 12}`;
    // Number() parses the exact digits as Decimal's toNumber does: the same float.
    const value = offset + slice(Number(text), terms);
    const bound = 1e-15 * (1 + legs.length) * terms.absolute + 2e-14 * terms.optionMarks + atMark;
    if (Math.abs(value) > bound) return value < 0;
    return exact(new Decimal(text)).lt(0);
  };
  const belowNegative = negativeAt(CERTIFY_BELOW);
  const aboveNegative = negativeAt(CERTIFY_ABOVE);
  const rising = belowNegative && !aboveNegative;
  const falling = !belowNegative && aboveNegative;
  if (!(direction === 1 ? rising : falling)) return undefined;
  return { underlying, price, method: "bracketed-search", direction };
}

/** A bracket table as floats, once per table (params, not books). */
const floatBracketTables = new WeakMap<readonly Bracket[], { cap: number; mmr: number; cum: number }[]>();
function floatBrackets(table: readonly Bracket[]) {
  let floats = floatBracketTables.get(table);
  if (!floats) {
    floats = table.map((b) => ({
      cap: b.notionalCap.toNumber(),
      mmr: b.mmr.toNumber(),
      cum: b.cum.toNumber(),
    }));
    floatBracketTables.set(table, floats);
  }
  return floats;
}

const SEARCH_FACTORS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9, 0.99, 0.9999];
const UPWARD_FACTORS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2, 5, 10, 100];

function solveBracketed(f: (p: Decimal) => Decimal, mark: Decimal, underlying: string): LiquidationSolution {
  const f0 = f(mark);
  if (f0.isZero()) return { underlying, price: mark, method: "bracketed-search", direction: 0 };
  const sign0 = f0.isPositive();
  // Walk outwards from the mark in both directions at once and stop at the nearest sign change.
  let lowPrev = mark;
  let highPrev = mark;
  for (let i = 0; i < UPWARD_FACTORS.length; i++) {
    const down = SEARCH_FACTORS[i];
    if (down !== undefined) {
      const p = mark.times(1 - down);
      if (f(p).isPositive() !== sign0) return refine(f, p, lowPrev, underlying);
      lowPrev = p;
    }
    const up = UPWARD_FACTORS[i] as number;
    const p = mark.times(1 + up);
    if (f(p).isPositive() !== sign0) return refine(f, highPrev, p, underlying);
    highPrev = p;
  }
  return { underlying, price: null, method: "bracketed-search", direction: 0 };
}

function refine(
  f: (p: Decimal) => Decimal,
  low: Decimal,
  high: Decimal,
  underlying: string,
): LiquidationSolution {
  const { a, b, direction } = illinois(
    (x) => f(new Decimal(x)).toNumber(),
    low.toNumber(),
    high.toNumber(),
    1e-14,
  );
  return {
    underlying,
    price: new Decimal((0.5 * (a + b)).toPrecision(15)),
    method: "bracketed-search",
    direction,
  };
}

/**
 * Regula falsi with the Illinois modification on [a, b], where g changes sign, until the bracket is
 * narrower than `tolerance` relative. direction +1: g rises through the root.
 */
function illinois(g: (x: number) => number, low: number, high: number, tolerance: number) {
  let a = low;
  let b = high;
  let fa = g(a);
  let fb = g(b);
  const direction: 1 | -1 = fb > fa ? 1 : -1;
  let side = 0;
  for (let i = 0; i < 200 && Math.abs(b - a) > tolerance * Math.abs(b); i++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = g(c);
    if (fc === 0 || c <= Math.min(a, b) || c >= Math.max(a, b)) {
      a = b = c;
      break;
    }
    if (fc > 0 === fb > 0) {
      b = c;
      fb = fc;
      if (side === -1) fa /= 2;
      side = -1;
    } else {
      a = c;
      fa = fc;
      if (side === 1) fb /= 2;
      side = 1;
    }
  }
  return { a, b, direction };
}
