/**
 * What a venue does after a liquidation (DESIGN §3.12): it closes the account at the mark in steps,
 * takes a fee into its insurance fund, and runs a bankrupt account's deficit down the loss
 * waterfall: the fund first, then auto-deleveraging (ADL) of profitable opposite positions.
 *
 * Closing a position realises its PnL: the closed part's `size × (mark − entry)` and the fee move
 * into the position's accrued `funding` (USD, as the document states it), so equity changes by the
 * fee alone and no cash is pushed through a collateral haircut or a loan surcharge. A closed
 * position stays on the book with size 0 and its realised PnL, until the venue settles it into a
 * balance. Options are not closed by this model: it closes perps and futures.
 */
import type { Account, RiskParamsDocument } from "@backing/contracts";
import { type AccountRisk, accountRisk, inInstrumentOrder } from "./account.ts";
import type { AccountBook, LinearPosition, Market, Position } from "./book.ts";
import { Decimal, dmin, ZERO } from "./decimal.ts";
import { underlyingMark } from "./margin.ts";
import type { RiskParams } from "./params.ts";

export interface LiquidationSettings {
  /** The most of each position (a fraction of its size when liquidation began) one step closes. */
  stepFraction: Decimal;
  /** Steps stop once equity ≥ targetMargin × MM. */
  targetMargin: Decimal;
  /** On the closed notional, paid to the insurance fund. */
  fee: Decimal;
}

/** DESIGN §3.12's defaults, as the shipped parameter set states them (default-params.ts says why). */
export const DEFAULT_LIQUIDATION = { stepFraction: "1", targetMargin: "1.5", fee: "0" } as const;

export function liquidationSettings(document: RiskParamsDocument): LiquidationSettings {
  const given = { ...DEFAULT_LIQUIDATION, ...document.liquidation };
  return {
    stepFraction: new Decimal(given.stepFraction),
    targetMargin: new Decimal(given.targetMargin),
    fee: new Decimal(given.fee),
  };
}

/** One trade the venue made on an account: `size` is the trade (a long closed sells, so negative). */
export interface VenueFill {
  account: string;
  instrument: string;
  underlying: string;
  size: Decimal;
  price: Decimal;
  fee: Decimal;
  kind: "liquidation" | "adl";
  /** ADL only: the realised profit given up to cover another account's deficit. */
  charge: Decimal;
}

export interface LiquidationOutcome {
  book: AccountBook;
  fills: VenueFill[];
  steps: number;
  fees: Decimal;
  closedNotional: Decimal;
  /** The account's equity after the closes, before any write-off. */
  equity: Decimal;
  /** max(0, −equity): the deficit the waterfall must cover. */
  badDebt: Decimal;
}

const isOpenLinear = (p: Position): p is LinearPosition => p.kind === "linear" && !p.size.isZero();

/**
 * Closes `closed` (signed like the position) of a linear position at `price`, less `charge` of its
 * realised PnL: the book's funding takes the realised PnL, and a perp settling against cumulative
 * funding moves the unsettled funding of the closed part into its accrued part, so the document
 * written back (size, accrued funding, same fundingIndex) states the same equity.
 */
function closePart(position: LinearPosition, closed: Decimal, price: Decimal, cost: Decimal): LinearPosition {
  const realised = closed.times(price.minus(position.entryPrice)).minus(cost);
  const size = position.size.minus(closed);
  const next: LinearPosition = { ...position, size, funding: position.funding.plus(realised) };
  const s = position.settlement;
  if (s) {
    const perUnit = s.cumulative.minus(s.fundingIndex);
    next.settlement = {
      ...s,
      accrued: s.accrued.plus(realised).minus(closed.times(perUnit)),
      unsettled: size.negated().times(perUnit),
    };
  }
  return next;
}

/**
 * The venue's liquidation of one account in LIQUIDATION (equity < MM) at `market`: each step
 * closes up to `stepFraction` of every open perp and future (of its size when liquidation began)
 * at its mark, paying `fee` × closed notional, until equity ≥ `targetMargin` × MM or nothing is
 * left open. An account not in LIQUIDATION comes back unchanged.
 */
export function liquidateAccount(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  settings: LiquidationSettings,
): LiquidationOutcome {
  let risk: AccountRisk = accountRisk(book, market, params);
  const outcome: LiquidationOutcome = {
    book,
    fills: [],
    steps: 0,
    fees: ZERO,
    closedNotional: ZERO,
    equity: risk.equity,
    badDebt: ZERO,
  };
  if (!risk.equity.lt(risk.maintenanceMargin)) return outcome;
  const stepSize = new Map(
    book.positions.filter(isOpenLinear).map((p) => [p.instrument, p.size.abs().times(settings.stepFraction)]),
  );
  let positions = book.positions;
  while (
    positions.some(isOpenLinear) &&
    risk.equity.lt(settings.targetMargin.times(risk.maintenanceMargin))
  ) {
    outcome.steps++;
    positions = positions.map((position) => {
      if (!isOpenLinear(position)) return position;
      const quantity = dmin(position.size.abs(), stepSize.get(position.instrument) ?? position.size.abs());
      const closed = position.size.isNegative() ? quantity.negated() : quantity;
      const price = underlyingMark(market, position.underlying);
      const notional = quantity.times(price);
      const fee = notional.times(settings.fee);
      outcome.fees = outcome.fees.plus(fee);
      outcome.closedNotional = outcome.closedNotional.plus(notional);
      outcome.fills.push({
        account: book.id,
        instrument: position.instrument,
        underlying: position.underlying,
        size: closed.negated(),
        price,
        fee,
        kind: "liquidation",
        charge: ZERO,
      });
      return closePart(position, closed, price, fee);
    });
    outcome.book = { ...book, positions };
    risk = accountRisk(outcome.book, market, params);
  }
  outcome.equity = risk.equity;
  outcome.badDebt = risk.equity.isNegative() ? risk.equity.negated() : ZERO;
  return outcome;
}

/**
 * Binance's ADL ranking as DESIGN §3.12 states it: max(0, uPnL) / max(1, wallet) × MM / (wallet +
 * uPnL), wallet being the collateral value. An account whose wallet + uPnL is not positive is
 * itself insolvent and is not ranked (null).
 */
export function adlScore(risk: AccountRisk): Decimal | null {
  const total = risk.collateralValue.plus(risk.unrealizedPnl);
  if (risk.unrealizedPnl.lte(0) || total.lte(0)) return null;
  return risk.unrealizedPnl
    .div(Decimal.max(1, risk.collateralValue))
    .times(risk.maintenanceMargin)
    .div(total);
}

/** A bankrupt account after its closes: its deficit and what it held, per underlying, signed. */
export interface Bankruptcy {
  account: string;
  venue: string;
  badDebt: Decimal;
  closed: ReadonlyMap<string, Decimal>;
}

export interface WaterfallOutcome {
  fundAfter: Decimal;
  /** Bad debt the fund paid. */
  fundUsed: Decimal;
  /** Bad debt ADL covered. */
  adlCovered: Decimal;
  /** Bad debt nothing covered (the fund empty and no profitable opposite position left). */
  uncovered: Decimal;
  adlNotional: Decimal;
  fills: VenueFill[];
  /** The ADL'd accounts' books after their closes. */
  books: Map<string, AccountBook>;
}

/**
 * The loss waterfall of one step: each bankruptcy (largest deficit first, then by id) is charged
 * to the insurance fund, and what the fund cannot pay to ADL. ADL walks the venue's other accounts
 * by `adlScore` (highest first, then by id), ranked once at `market`; each gives up the realised
 * profit of its positions opposite the bankrupt one's on the same underlying, closed at the mark,
 * up to the quantity the bankrupt account held, until the deficit is covered.
 */
export function runWaterfall(
  bankruptcies: readonly Bankruptcy[],
  counterparties: readonly AccountBook[],
  market: Market,
  params: RiskParams,
  fund: Decimal,
): WaterfallOutcome {
  const result: WaterfallOutcome = {
    fundAfter: fund,
    fundUsed: ZERO,
    adlCovered: ZERO,
    uncovered: ZERO,
    adlNotional: ZERO,
    fills: [],
    books: new Map(),
  };
  const ranked = counterparties
    .map((book) => ({ book, score: adlScore(accountRisk(book, market, params)) }))
    .filter((c): c is { book: AccountBook; score: Decimal } => c.score !== null)
    .sort(
      (a, b) => b.score.comparedTo(a.score) || (a.book.id < b.book.id ? -1 : a.book.id > b.book.id ? 1 : 0),
    );
  const order = [...bankruptcies].sort(
    (a, b) => b.badDebt.comparedTo(a.badDebt) || (a.account < b.account ? -1 : a.account > b.account ? 1 : 0),
  );
  for (const bankrupt of order) {
    const fromFund = dmin(result.fundAfter, bankrupt.badDebt);
    result.fundAfter = result.fundAfter.minus(fromFund);
    result.fundUsed = result.fundUsed.plus(fromFund);
    let remaining = bankrupt.badDebt.minus(fromFund);
    const left = new Map([...bankrupt.closed].map(([underlying, size]) => [underlying, size]));
    for (const candidate of ranked) {
      if (remaining.isZero()) break;
      if (candidate.book.venue !== bankrupt.venue) continue;
      const book = result.books.get(candidate.book.id) ?? candidate.book;
      let changed = false;
      const positions = inInstrumentOrder(book.positions).map((position) => {
        const held = left.get(position.underlying);
        if (remaining.isZero() || !held || held.isZero() || !isOpenLinear(position)) return position;
        if (position.size.isPositive() === held.isPositive()) return position;
        const price = underlyingMark(market, position.underlying);
        const quantity = dmin(position.size.abs(), held.abs());
        const closed = position.size.isNegative() ? quantity.negated() : quantity;
        const profit = closed.times(price.minus(position.entryPrice));
        if (profit.lte(0)) return position;
        const charge = dmin(profit, remaining);
        remaining = remaining.minus(charge);
        result.adlCovered = result.adlCovered.plus(charge);
        result.adlNotional = result.adlNotional.plus(quantity.times(price));
        left.set(position.underlying, held.isPositive() ? held.minus(quantity) : held.plus(quantity));
        result.fills.push({
          account: book.id,
          instrument: position.instrument,
          underlying: position.underlying,
          size: closed.negated(),
          price,
          fee: ZERO,
          kind: "adl",
          charge,
        });
        changed = true;
        return closePart(position, closed, price, charge);
      });
      if (changed) result.books.set(book.id, { ...book, positions });
    }
    result.uncovered = result.uncovered.plus(remaining);
  }
  return result;
}

/**
 * Writes a bankrupt account's deficit off once the waterfall has covered it: the first perp or
 * future (by instrument) takes `amount` into its accrued funding, so the account ends at equity 0.
 */
export function writeOff(book: AccountBook, amount: Decimal): AccountBook {
  const first = inInstrumentOrder(book.positions).find((p) => p.kind === "linear");
  if (amount.isZero() || first?.kind !== "linear") return book;
  // Closing nothing realises no PnL: the whole credit is the negative cost.
  const credited = closePart(first, ZERO, first.entryPrice, amount.negated());
  return { ...book, positions: book.positions.map((p) => (p === first ? credited : p)) };
}

/**
 * The account document after the venue's trades: each perp and future takes its new size and
 * accrued funding (the realised PnL), written with at most 18 decimals (the input bound: a fee on
 * a notional with 18-decimal sizes could carry more, and is cut toward zero past them).
 */
export function accountAfterTrades(account: Account, book: AccountBook): Account {
  const byInstrument = new Map(book.positions.map((p) => [p.instrument, p]));
  const text = (value: Decimal) => value.toDecimalPlaces(18, Decimal.ROUND_DOWN).toFixed();
  return {
    ...account,
    positions: account.positions.map((position) => {
      const traded = byInstrument.get(position.instrument);
      if (position.type === "option" || traded?.kind !== "linear") return position;
      const accrued = traded.settlement?.accrued ?? traded.funding;
      return { ...position, size: text(traded.size), funding: text(accrued) };
    }),
  };
}
