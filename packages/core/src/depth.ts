import type { PortfolioDepth } from "@backing/contracts";
import { Decimal, fromModelFloat, ONE, ZERO } from "./decimal.ts";

/** One level of a book: its snapshot price, its size in base units, and its place relative to the mid. */
export interface DepthLevel {
  price: Decimal;
  size: Decimal;
  /** price / mid: the level sits at mark × ratio whatever the mark is now. */
  ratio: Decimal;
}

/** An order-book snapshot read relative to its mid (DESIGN §3.11). */
export interface DepthBook {
  asset: string;
  timestamp: string;
  /** (best bid + best ask) / 2. */
  mid: Decimal;
  bids: readonly DepthLevel[];
  asks: readonly DepthLevel[];
}

export type DepthBooks = ReadonlyMap<string, DepthBook>;
export type DepthSide = "bids" | "asks";

/** Builds the books of validated snapshots (`PortfolioDepth`'s output), keyed by asset. */
export function depthBooks(snapshots: PortfolioDepth): Map<string, DepthBook> {
  const books = new Map<string, DepthBook>();
  for (const [asset, snapshot] of Object.entries(snapshots)) {
    const bestBid = new Decimal((snapshot.bids[0] as [string, string])[0]);
    const bestAsk = new Decimal((snapshot.asks[0] as [string, string])[0]);
    const mid = bestBid.plus(bestAsk).div(2);
    const levels = (side: [string, string][]) =>
      side.map(([price, size]) => {
        const p = new Decimal(price);
        return { price: p, size: new Decimal(size), ratio: p.div(mid) };
      });
    books.set(asset, {
      asset,
      timestamp: snapshot.timestamp,
      mid,
      bids: levels(snapshot.bids),
      asks: levels(snapshot.asks),
    });
  }
  return books;
}

/** Where a cascade's cumulative forced flow has pushed one asset on its book. */
export interface BookWalk {
  /** The new mark as a multiple of the shocked mark. */
  factor: Decimal;
  side: DepthSide;
  /** Levels the flow reached (all of the side when past the book). */
  levelsTouched: number;
  /** Base units of the side's (scaled) size the flow took, at most `visible`. */
  consumed: Decimal;
  /** The side's whole visible size, scaled by the depth multiplier. */
  visible: Decimal;
  /** The flow went past the last level, and the square-root continuation priced the rest. */
  pastBook: boolean;
}

/**
 * Walks a cascade's cumulative net forced flow into the book. Sells (positive `netSize`, base
 * units) consume bids from the best level down, buys consume asks; each level's size is scaled
 * by `multiplier`. Within the book, the new mark is the price of the deepest level touched: the
 * first whose cumulative size reaches the flow.
 *
 * Past the visible book, the square-root law continues from the last level, calibrated on the
 * book itself: a flow Q above the side's visible size S moves the price by
 * |ΔP/P| = |ratio_last − 1| × sqrt(Q / S). It meets the last level at Q = S, needs no other
 * parameter, and scales with the multiplier as the book does. The move is float64 model maths,
 * entering exact prices at `fromModelFloat`; a price never falls below `floor` of the shocked mark.
 */
export function walkBook(book: DepthBook, netSize: Decimal, multiplier: Decimal, floor: Decimal): BookWalk {
  const selling = netSize.isPositive();
  const side: DepthSide = selling ? "bids" : "asks";
  const levels = book[side];
  const flow = netSize.abs();
  // Sells and buys that net to nothing leave the book and the price where the shock put them.
  if (flow.isZero())
    return {
      factor: ONE,
      side,
      levelsTouched: 0,
      consumed: ZERO,
      visible: total(levels, multiplier),
      pastBook: false,
    };
  let cumulative = ZERO;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as DepthLevel;
    cumulative = cumulative.plus(level.size.times(multiplier));
    if (cumulative.gte(flow))
      return {
        factor: level.ratio,
        side,
        levelsTouched: i + 1,
        consumed: flow,
        visible: total(levels, multiplier),
        pastBook: false,
      };
  }
  const last = levels[levels.length - 1] as DepthLevel;
  const move = last.ratio.minus(ONE).abs().toNumber() * Math.sqrt(flow.div(cumulative).toNumber());
  const factor = selling ? Decimal.max(fromModelFloat(1 - move), floor) : fromModelFloat(1 + move);
  return {
    factor,
    side,
    levelsTouched: levels.length,
    consumed: cumulative,
    visible: cumulative,
    pastBook: true,
  };
}

function total(levels: readonly DepthLevel[], multiplier: Decimal): Decimal {
  return levels.reduce((sum, l) => sum.plus(l.size), ZERO).times(multiplier);
}

/**
 * USD depth between the mark and mark × (1 + move) (DESIGN §3.11): Σ price × size of the bids at
 * or above that bound for a fall, of the asks at or below it for a rise, with the book moved to the
 * mark (price × mark / mid) and sizes scaled by `multiplier`. A level exactly on the bound counts.
 */
export function depthNotionalWithin(
  book: DepthBook,
  mark: Decimal,
  move: Decimal,
  multiplier: Decimal,
): Decimal {
  const bound = book.mid.times(ONE.plus(move));
  const falling = move.isNegative();
  let notional = ZERO;
  for (const level of falling ? book.bids : book.asks) {
    if (falling ? level.price.lt(bound) : level.price.gt(bound)) break;
    notional = notional.plus(level.price.times(level.size));
  }
  return notional.times(multiplier).times(mark).div(book.mid);
}

/**
 * The average fill price of a market order of `notional` USD against one side, the book moved to
 * the mark (the impact bid for a sell into the bids, the impact ask for a buy from the asks); null
 * when the visible side holds less than the notional.
 */
export function impactPrice(
  book: DepthBook,
  mark: Decimal,
  notional: Decimal,
  side: DepthSide,
): Decimal | null {
  const scale = mark.div(book.mid);
  let left = notional;
  let base = ZERO;
  for (const level of book[side]) {
    const price = level.price.times(scale);
    const levelNotional = price.times(level.size);
    if (levelNotional.gte(left)) return notional.div(base.plus(left.div(price)));
    left = left.minus(levelNotional);
    base = base.plus(level.size);
  }
  return null;
}
