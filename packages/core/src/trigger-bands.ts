import type { AccountStatus, MarginTotals } from "./account.ts";
import { STABLECOINS } from "./asset-classes.ts";
import type { AccountBook, Market } from "./book.ts";
import { Decimal, dmax, dmin, ONE, ZERO } from "./decimal.ts";
import { bracketFor } from "./margin.ts";
import type { RiskParams } from "./params.ts";

/**
 * A price band of one asset: while both its index and its mark stay within [low, high], and every
 * other asset of the account stays within its own band, the account's status cannot change.
 * `low`/`high` null: no such band (re-evaluate the account on any move of this asset). `high`
 * Infinity and `low` 0: nothing in that direction can change the status.
 */
export interface PriceBand {
  asset: string;
  low: Decimal | null;
  high: Decimal | null;
}

/** Keeps a band strictly inside what the bound allows (never exactly on a threshold). */
const SAFETY = new Decimal("0.999999");
/** A bounded band never reaches farther than this multiple of the price. */
const MAX_REACH = new Decimal(10);
const UNBOUNDED = new Decimal(Infinity);
const DecimalDown = Decimal.clone({ rounding: Decimal.ROUND_DOWN });
const DecimalUp = Decimal.clone({ rounding: Decimal.ROUND_UP });

/** The account's price-sensitive assets: its positions' underlyings and its collateral assets. */
export function sensitiveAssets(book: AccountBook): string[] {
  const assets = new Set<string>();
  for (const p of book.positions) if (!p.size.isZero()) assets.add(p.underlying);
  for (const c of book.collateral) if (!c.amount.isZero()) assets.add(c.asset);
  return [...assets].sort();
}

/** [least, greatest] of a rate of change per unit of price. */
type Interval = [Decimal, Decimal];

/** A margin the status needs to keep positive: sign·(E − factor·R) > 0 (≥ 0 for the one below). */
interface Margin {
  budget: Decimal;
  sign: 1 | -1;
  requirement: "im" | "mm";
  factor: Decimal;
}

/**
 * Trigger bands (DESIGN §3.7) from the account's exact totals at this market.
 *
 * Derivation. The status machine (§3.6) keeps the account's status S exactly when equity clears
 * the threshold below S and stays short of S's cure threshold above it. With w = warningBuffer and
 * c = 1 + cureBuffer, nextStatus(S, ·) = S exactly when
 *   h_worse = E − t·R ≥ 0     (t·R: HEALTHY (1 + w)·IM, WARNING IM, MARGIN_CALL MM; LIQUIDATION has none)
 *   h_cure  = c·t·R − E > 0   (t·R: WARNING (1 + w)·IM, MARGIN_CALL IM, LIQUIDATION MM; HEALTHY has none).
 * No other threshold can change S. Each margin h_m has the budget B_m = its value now: if it falls
 * by less than B_m, its sign holds.
 * In the standard model E, IM and MM are sums of per-asset terms (collateral at its index,
 * positions at their underlying's mark), so a joint move changes h_m by Σ_X Δ_X h_m, and it is
 * enough that no asset X lowers h_m by its share B_m·φ_X or more (Σ φ_X = 1). Per asset, while
 * the price moves within the band, every term changes at a rate (per unit of price) inside:
 *   E:  a linear position exactly its signed size s; an option priced by Black-76 s·[0, 1] (call)
 *       or s·[−1, 0] (put), since delta stays in those bounds (which also covers convexity: no gamma
 *       term is needed); collateral q > 0 within [0, q] (haircut tiers are continuous with weights in
 *       [0, 1]); a loan q < 0 exactly q·(1 + surcharge);
 *   IM: a linear position exactly |s|/maxLeverage of its current bracket, MM exactly |s|·mmr; a
 *       short option within ±|s|·(max(base, floor, maint) + 2) (the OTM amount and the option mark
 *       each move at most 1 per unit).
 * So E − f·R changes at a rate in [g_lo, g_hi] (interval arithmetic), and h_m = sign·(E − f·R)
 * falls, per unit of price, by at most L↓ = max(0, sign·g_hi) on the way down and
 * L↑ = max(0, −sign·g_lo) on the way up (mean value theorem). The band reaches down
 * d↓ = min_m B_m·φ_X / L↓_m and up d↑ = min_m B_m·φ_X / L↑_m, shrunk by 1e-6 to stay strictly
 * inside and capped at 10× the price; where no margin loses at all (L = 0 for every m) the band is
 * unbounded that way: a long perp on a HEALTHY account is never recomputed for a rise, a short
 * never for a fall. Linear IM jumps at a bracket edge (notional / maxLeverage changes leverage), so the band
 * also stops strictly inside the current bracket of every perp and future on X.
 * Portfolio-margin accounts, accounts exactly on a threshold (B = 0) and assets whose index and mark
 * differ by more than the band get no band. Time (option theta, expiry, call deadlines) is not a
 * price: the periodic sweep covers it.
 *
 * `status` is the status the account holds after this evaluation (what the next one starts from).
 */
export function triggerBands(
  book: AccountBook,
  market: Market,
  params: RiskParams,
  totals: MarginTotals,
  status: AccountStatus,
): PriceBand[] {
  const assets = sensitiveAssets(book);
  const none = assets.map((asset) => ({ asset, low: null, high: null }));
  if (book.marginMode !== "standard" || assets.length === 0) return none;
  const margins = statusMargins(status, totals, params);
  if (margins.some((m) => !m.budget.isPositive() || m.budget.isZero())) return none;
  const exposures = assets.map((asset) => {
    const quote = market.quotes.get(asset);
    if (!quote) return null;
    const rates = ratesOf(book, asset, quote, params);
    const losses = margins.map((margin) => lossRates(rates, margin));
    // The budget goes to the assets in proportion to what a typical move would cost (the largest
    // share of a budget lost per unit × price × typical relative move): every band is then about
    // the same number of typical moves wide. Any split whose shares sum to the budget is safe.
    const perUnit = losses.reduce(
      (most, loss, m) => dmax(most, dmax(loss.down, loss.up).div((margins[m] as Margin).budget)),
      ZERO,
    );
    const weight = perUnit.times(dmax(quote.index, quote.mark)).times(typicalMove(asset, params));
    return { quote, rates, losses, weight };
  });
  const totalWeight = exposures.reduce((sum, e) => (e ? sum.plus(e.weight) : sum), ZERO);

  return assets.map((asset, i): PriceBand => {
    const exposure = exposures[i];
    if (!exposure) return { asset, low: null, high: null };
    const { quote, rates, losses, weight } = exposure;
    const highest = dmax(quote.index, quote.mark);
    const lowest = dmin(quote.index, quote.mark);
    const farthest = highest.times(MAX_REACH);
    // A direction in which no margin can fall is unbounded (up to a bracket edge); otherwise the
    // reach is capped at 10× the price, so every finite edge fits the index's sort key.
    const reach = (direction: "down" | "up") =>
      margins.reduce((least, margin, m) => {
        const loss = (losses[m] as { down: Decimal; up: Decimal })[direction];
        if (loss.isZero() || totalWeight.isZero()) return least;
        const share = DecimalDown.div(margin.budget.times(weight), totalWeight);
        return dmin(least, dmin(DecimalDown.div(share, loss).times(SAFETY), farthest));
      }, UNBOUNDED);
    let low = dmax(highest.minus(reach("down")), rates.floor);
    let high = lowest.plus(reach("up"));
    if (rates.ceiling) high = dmin(high, rates.ceiling);
    if (low.gt(lowest) || high.lt(highest)) return { asset, low: null, high: null };
    if (low.isNegative()) low = ZERO;
    return { asset, low, high };
  });
}

/** The margins of the derivation above for the status held (budgets ≤ 0 when the totals do not hold it). */
function statusMargins(status: AccountStatus, totals: MarginTotals, params: RiskParams): Margin[] {
  const { equity, initialMargin, maintenanceMargin } = totals;
  const warning = ONE.plus(params.status.warningBuffer);
  const cure = ONE.plus(params.status.cureBuffer);
  const worse = (requirement: "im" | "mm", factor: Decimal): Margin => ({
    budget: equity.minus((requirement === "im" ? initialMargin : maintenanceMargin).times(factor)),
    sign: 1,
    requirement,
    factor,
  });
  const better = (requirement: "im" | "mm", factor: Decimal): Margin => ({
    budget: (requirement === "im" ? initialMargin : maintenanceMargin).times(factor).minus(equity),
    sign: -1,
    requirement,
    factor,
  });
  if (status === "HEALTHY") return [worse("im", warning)];
  if (status === "WARNING") return [worse("im", ONE), better("im", warning.times(cure))];
  if (status === "MARGIN_CALL") return [worse("mm", ONE), better("im", cure)];
  return [better("mm", cure)];
}

interface Rates {
  equity: Interval;
  im: Interval;
  mm: Interval;
  /** The band stays strictly above the previous bracket's cap and at most the current one. */
  floor: Decimal;
  ceiling: Decimal | null;
}

const add = (a: Interval, lo: Decimal, hi: Decimal): Interval => [a[0].plus(lo), a[1].plus(hi)];

/** How fast E, IM and MM can change per unit of the asset's price, anywhere inside its bracket. */
function ratesOf(
  book: AccountBook,
  asset: string,
  quote: { index: Decimal; mark: Decimal },
  params: RiskParams,
): Rates {
  let equity: Interval = [ZERO, ZERO];
  let im: Interval = [ZERO, ZERO];
  let mm: Interval = [ZERO, ZERO];
  let floor = ZERO;
  let ceiling: Decimal | null = null;
  const brackets = params.brackets.get(asset) ?? [];
  const optionRate = dmax(
    dmax(params.options.shortInitialBase, params.options.shortInitialFloor),
    params.options.shortMaintenance,
  ).plus(2);
  for (const position of book.positions) {
    if (position.underlying !== asset || position.size.isZero()) continue;
    const size = position.size;
    const units = size.abs();
    if (position.kind === "linear") {
      const bracket = bracketFor(brackets, units.times(quote.mark));
      equity = add(equity, size, size);
      im = add(im, DecimalDown.div(units, bracket.maxLeverage), DecimalUp.div(units, bracket.maxLeverage));
      mm = add(mm, units.times(bracket.mmr), units.times(bracket.mmr));
      const below = brackets[bracket.index - 1];
      if (below) floor = dmax(floor, DecimalUp.div(below.notionalCap, units).plus("1e-18"));
      if (bracket.index < brackets.length - 1) {
        const cap = DecimalDown.div(bracket.notionalCap, units);
        ceiling = ceiling ? dmin(ceiling, cap) : cap;
      }
      continue;
    }
    if (position.markPrice === null) {
      // Delta per unit in [0, 1] for a call, [−1, 0] for a put; scaled by the signed size.
      const [lo, hi] = position.optionType === "call" ? [ZERO, size] : [size.neg(), ZERO];
      equity = add(equity, dmin(lo, hi), dmax(lo, hi));
    }
    if (size.isNegative()) {
      const swing = units.times(optionRate);
      im = add(im, swing.neg(), swing);
      mm = add(mm, swing.neg(), swing);
    }
  }
  for (const balance of book.collateral) {
    if (balance.asset !== asset || balance.amount.isZero()) continue;
    if (balance.amount.isNegative()) {
      const loan = balance.amount.times(ONE.plus(params.liabilitySurcharge));
      equity = add(equity, loan, loan);
    } else equity = add(equity, ZERO, balance.amount);
  }
  return { equity, im, mm, floor, ceiling };
}

/** How much the margin can fall per unit of price, moving down and moving up. */
function lossRates(rates: Rates, margin: Margin): { down: Decimal; up: Decimal } {
  const [rLo, rHi] = rates[margin.requirement];
  // E − f·R changes at a rate in [gLo, gHi].
  const gLo = rates.equity[0].minus(margin.factor.times(rHi));
  const gHi = rates.equity[1].minus(margin.factor.times(rLo));
  return margin.sign === 1
    ? { down: dmax(ZERO, gHi), up: dmax(ZERO, gLo.neg()) }
    : { down: dmax(ZERO, gLo.neg()), up: dmax(ZERO, gHi) };
}

const STABLE_MOVE = new Decimal("0.002");
const DEFAULT_MOVE = new Decimal("0.05");

/** An asset's typical daily relative move: the stress impact model's dailyVol, 0.2% for stablecoins, else 5%. */
function typicalMove(asset: string, params: RiskParams): Decimal {
  const vol = params.document.stress?.impact[asset]?.dailyVol;
  if (vol) return new Decimal(vol);
  return STABLECOINS.has(asset) ? STABLE_MOVE : DEFAULT_MOVE;
}

/** Whether a new quote of `band.asset` leaves the band (a band of null always does, on any change). */
export function leavesBand(band: PriceBand, quote: { index: Decimal; mark: Decimal }): boolean {
  if (band.low === null || band.high === null) return true;
  return dmin(quote.index, quote.mark).lt(band.low) || dmax(quote.index, quote.mark).gt(band.high);
}
