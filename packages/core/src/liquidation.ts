import { accountRisk } from "./account.ts";
import { type AccountBook, type Market, withMark } from "./book.ts";
import { Decimal, ZERO } from "./decimal.ts";
import type { RiskParams } from "./params.ts";

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
function excessFunction(book: AccountBook, market: Market, params: RiskParams, underlying: string) {
  const slice: AccountBook = {
    ...book,
    collateral: book.marginMode === "portfolio" ? book.collateral.filter((c) => c.asset === underlying) : [],
    positions: book.positions.filter((p) => p.underlying === underlying),
  };
  const sliceExcess = (m: Market) => {
    const risk = accountRisk(slice, m, params);
    return risk.equity.minus(risk.maintenanceMargin);
  };
  const full = accountRisk(book, market, params);
  const constant = full.equity.minus(full.maintenanceMargin).minus(sliceExcess(market));
  return (price: Decimal) => constant.plus(sliceExcess(withMark(market, underlying, price)));
}

/**
 * Prices at which f can bend in the standard model: bracket edges of every linear position on the
 * underlying (P = cap / |size|) and the kink of a short put's MM at S = markPrice.
 */
function breakpoints(book: AccountBook, params: RiskParams, underlying: string): Decimal[] {
  const points: Decimal[] = [];
  for (const position of book.positions) {
    if (position.underlying !== underlying || position.size.isZero()) continue;
    if (position.kind === "linear") {
      for (const bracket of params.brackets.get(underlying) ?? [])
        points.push(bracket.notionalCap.div(position.size.abs()));
    } else if (position.optionType === "put" && position.size.isNegative() && position.markPrice) {
      points.push(position.markPrice);
    }
  }
  points.sort((a, b) => a.comparedTo(b));
  return points.filter((p, i) => p.isPositive() && !(i > 0 && p.eq(points[i - 1] as Decimal)));
}

/** f is piecewise linear in P in the standard model unless an option is marked by Black-76. */
function isPiecewiseLinear(book: AccountBook, underlying: string): boolean {
  return (
    book.marginMode === "standard" &&
    book.positions.every((p) => p.underlying !== underlying || p.kind === "linear" || p.markPrice !== null)
  );
}

/**
 * The mark of `underlying` at which equity = MM (DESIGN §3.3). Standard model: solve the linear
 * equation in the bracket segment holding the current mark; if the root falls outside that segment,
 * move to the neighbouring segment on the root's side and solve again (the Binance re-check). Null
 * when no root exists in (0, ∞). Otherwise (Black-76 options, portfolio grid) f is not linear: the
 * nearest sign change is bracketed and refined by regula falsi (Illinois) to 1e-14 relative.
 */
export function liquidationPrice(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  underlying: string,
  explain = false,
): LiquidationSolution {
  const f = excessFunction(book, market, params, underlying);
  const mark = market.quotes.get(underlying)?.mark ?? ZERO;
  if (!mark.isPositive()) return { underlying, price: null, method: "closed-form", direction: 0 };
  return isPiecewiseLinear(book, underlying)
    ? solveSegments(f, breakpoints(book, params, underlying), mark, underlying, explain)
    : solveBracketed(f, mark, underlying);
}

function solveSegments(
  f: (p: Decimal) => Decimal,
  points: Decimal[],
  mark: Decimal,
  underlying: string,
  explain: boolean,
): LiquidationSolution {
  const edges = [ZERO, ...points];
  let segment = edges.findLastIndex((edge) => edge.lt(mark));
  const visited = new Set<number>();
  const trace: NonNullable<LiquidationSolution["segments"]> | undefined = explain ? [] : undefined;
  while (segment >= 0 && segment < edges.length && !visited.has(segment)) {
    visited.add(segment);
    const from = edges[segment] as Decimal;
    const to = edges[segment + 1] ?? null;
    const a = from;
    const b = to ?? from.times(2).plus(1);
    const fa = f(a);
    const slope = f(b).minus(fa).div(b.minus(a));
    if (slope.isZero()) {
      trace?.push({ from, to, root: null });
      break;
    }
    const root = a.minus(fa.div(slope));
    trace?.push({ from, to, root });
    const direction = slope.isPositive() ? 1 : -1;
    if (root.lt(from)) {
      if (segment === 0) break;
      segment -= 1;
    } else if (to && root.gt(to)) {
      segment += 1;
    } else {
      const price = root.isPositive() ? root : null;
      return { underlying, price, method: "closed-form", direction, ...(trace ? { segments: trace } : {}) };
    }
  }
  return {
    underlying,
    price: null,
    method: "closed-form",
    direction: 0,
    ...(trace ? { segments: trace } : {}),
  };
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
  let a = low.toNumber();
  let b = high.toNumber();
  const g = (x: number) => f(new Decimal(x)).toNumber();
  let fa = g(a);
  let fb = g(b);
  const direction: 1 | -1 = fb > fa ? 1 : -1;
  let side = 0;
  for (let i = 0; i < 200 && Math.abs(b - a) > 1e-14 * Math.abs(b); i++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = g(c);
    if (fc === 0) {
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
  return {
    underlying,
    price: new Decimal((0.5 * (a + b)).toPrecision(15)),
    method: "bracketed-search",
    direction,
  };
}
