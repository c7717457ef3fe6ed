import type { AccountStatus, MarginTotals } from "./account.ts";
import type { AccountBook, Market } from "./book.ts";
import { Decimal, dmax, dmin, ONE, ZERO } from "./decimal.ts";
import { bracketFor } from "./margin.ts";
import type { RiskParams } from "./params.ts";

/**
 * A price band of one asset: while both its index and its mark stay within [low, high], and every
 * other asset of the account stays within its own band, the account's status cannot change.
 * `low`/`high` null: no such band (re-evaluate the account on any move of this asset).
 */
export interface PriceBand {
  asset: string;
  low: Decimal | null;
  high: Decimal | null;
}

/** Keeps a band strictly inside what the bound allows (never exactly on a threshold). */
const SAFETY = new Decimal("0.999999");
/** A band never reaches farther than this multiple of the price (an account with no price risk). */
const MAX_REACH = new Decimal(10);
const DecimalDown = Decimal.clone({ rounding: Decimal.ROUND_DOWN });
const DecimalUp = Decimal.clone({ rounding: Decimal.ROUND_UP });

/** The account's price-sensitive assets: its positions' underlyings and its collateral assets. */
export function sensitiveAssets(book: AccountBook): string[] {
  const assets = new Set<string>();
  for (const p of book.positions) if (!p.size.isZero()) assets.add(p.underlying);
  for (const c of book.collateral) if (!c.amount.isZero()) assets.add(c.asset);
  return [...assets].sort();
}

/**
 * Trigger bands (DESIGN §3.7) from the account's exact totals at this market.
 *
 * Derivation. The status machine (§3.6) keeps the account's status S exactly when equity clears
 * the threshold below S and stays short of S's cure threshold above it. With w = warningBuffer and
 * c = 1 + cureBuffer, nextStatus(S, ·) = S exactly when
 *   h_worse = E − t·R ≥ 0     (t·R: HEALTHY (1 + w)·IM, WARNING IM, MARGIN_CALL MM; LIQUIDATION has none)
 *   h_cure  = E − c·t·R < 0   (t·R: WARNING (1 + w)·IM, MARGIN_CALL IM, LIQUIDATION MM; HEALTHY has none).
 * No other threshold can change S. Let B = min(h_worse, −h_cure) over the margins S has. If neither
 * margin moves by B or more, neither sign changes and the status stays.
 * In the standard model E, IM and MM are sums of per-asset terms (collateral at its index,
 * positions at their underlying's mark), so a joint move changes a margin h by Σ_X Δ_X h and it is
 * enough that each sensitive asset X changes h by less than its share B_X, Σ B_X ≤ B (split in
 * proportion to the asset's expected dollar move, see below). Per asset X, with
 * |ΔP| ≤ d_X for both its index and mark:
 *   |Δ_X E| ≤ L^E_X·d_X,  L^E_X = Σ_linear |size| + Σ_options(Black-76) |size| + Σ_collateral |amount|·(1 + surcharge on a loan)
 *   (haircut tiers are continuous with slope ≤ 1; an option's |delta| ≤ 1, which also bounds its
 *   convexity over the whole band: no gamma term is needed);
 *   |Δ_X R| ≤ L^R_X·d_X,  L^R_X = Σ_linear |size|·max(1/maxLeverage, mmr) of the current bracket
 *   + Σ_short options |size|·(max(base, floor, maint) + 2)   (the OTM amount and the option mark
 *   each move at most 1 per unit);
 * so d_X = B_X / (L^E_X + f·L^R_X), f the largest requirement factor of S's margins ((1 + w) for
 * HEALTHY, (1 + w)·c for WARNING, c otherwise), shrunk by 1e-6 to stay strictly inside. Linear IM
 * jumps at a bracket edge (notional / maxLeverage changes leverage), so the band also stops
 * strictly inside the current bracket of every perp and future on X.
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
  const { budget, factor } = statusBudget(status, totals, params);
  if (!budget.isPositive() || budget.isZero()) return none;
  // The budget goes to the assets in proportion to their expected dollar move (rate × price ×
  // typical relative move): every asset's band is then the same number of "typical moves" wide.
  // Any split whose shares sum to the budget is safe; this one spends it where prices move.
  const quoted = assets.map((asset) => ({ asset, quote: market.quotes.get(asset) }));
  const optionRate = dmax(
    dmax(params.options.shortInitialBase, params.options.shortInitialFloor),
    params.options.shortMaintenance,
  ).plus(2);

  const sensitivity = quoted.map(({ asset, quote }) => {
    if (!quote) return null;
    let equityRate = ZERO;
    let requirementRate = ZERO;
    let floor = ZERO;
    let ceiling: Decimal | null = null;
    const brackets = params.brackets.get(asset) ?? [];
    for (const position of book.positions) {
      if (position.underlying !== asset || position.size.isZero()) continue;
      const units = position.size.abs();
      if (position.kind === "linear") {
        const bracket = bracketFor(brackets, units.times(quote.mark));
        equityRate = equityRate.plus(units);
        requirementRate = requirementRate.plus(
          units.times(dmax(DecimalUp.div(ONE, bracket.maxLeverage), bracket.mmr)),
        );
        // Strictly above the previous bracket's cap (where that bracket applies) and at most this cap.
        const below = brackets[bracket.index - 1];
        if (below) floor = dmax(floor, DecimalUp.div(below.notionalCap, units).plus("1e-18"));
        if (bracket.index < brackets.length - 1) {
          const cap = DecimalDown.div(bracket.notionalCap, units);
          ceiling = ceiling ? dmin(ceiling, cap) : cap;
        }
      } else {
        if (position.markPrice === null) equityRate = equityRate.plus(units);
        if (position.size.isNegative()) requirementRate = requirementRate.plus(units.times(optionRate));
      }
    }
    for (const balance of book.collateral) {
      if (balance.asset !== asset || balance.amount.isZero()) continue;
      const weight = balance.amount.isNegative() ? ONE.plus(params.liabilitySurcharge) : ONE;
      equityRate = equityRate.plus(balance.amount.abs().times(weight));
    }
    const rate = equityRate.plus(factor.times(requirementRate));
    const weight = rate.times(dmax(quote.index, quote.mark)).times(typicalMove(asset, params));
    return { quote, rate, weight, floor, ceiling };
  });
  const totalWeight = sensitivity.reduce((sum, s) => (s ? sum.plus(s.weight) : sum), ZERO);

  return assets.map((asset, i): PriceBand => {
    const s = sensitivity[i];
    if (!s) return { asset, low: null, high: null };
    const { quote, rate, floor, ceiling } = s;
    const share = totalWeight.isZero()
      ? budget.div(assets.length)
      : DecimalDown.div(budget.times(s.weight), totalWeight);
    const highest = dmax(quote.index, quote.mark);
    const lowest = dmin(quote.index, quote.mark);
    const reach = rate.isZero()
      ? highest.times(MAX_REACH)
      : dmin(DecimalDown.div(share, rate).times(SAFETY), highest.times(MAX_REACH));
    let low = dmax(highest.minus(reach), floor);
    let high = lowest.plus(reach);
    if (ceiling) high = dmin(high, ceiling);
    if (low.gt(lowest) || high.lt(highest)) return { asset, low: null, high: null };
    if (low.isNegative()) low = ZERO;
    return { asset, low, high };
  });
}

/**
 * B and f of the derivation above: the smaller of the status's margins (≤ 0 when the totals do not
 * hold the status, so no band) and the largest requirement factor among them.
 */
function statusBudget(status: AccountStatus, totals: MarginTotals, params: RiskParams) {
  const { equity, initialMargin, maintenanceMargin } = totals;
  const warning = ONE.plus(params.status.warningBuffer);
  const cure = ONE.plus(params.status.cureBuffer);
  // [requirement below S, its factor] and [requirement S must not clear by the cure buffer, its factor].
  const [worse, better]: [[Decimal, Decimal] | null, [Decimal, Decimal] | null] =
    status === "HEALTHY"
      ? [[initialMargin, warning], null]
      : status === "WARNING"
        ? [
            [initialMargin, ONE],
            [initialMargin, warning.times(cure)],
          ]
        : status === "MARGIN_CALL"
          ? [
              [maintenanceMargin, ONE],
              [initialMargin, cure],
            ]
          : [null, [maintenanceMargin, cure]];
  const margins = [
    ...(worse ? [equity.minus(worse[0].times(worse[1]))] : []),
    ...(better ? [better[0].times(better[1]).minus(equity)] : []),
  ];
  const budget = margins.reduce((least, h) => dmin(least, h));
  const factor = dmax(worse?.[1] ?? ONE, better?.[1] ?? ONE);
  return { budget, factor };
}

const STABLE = new Set(["USDC", "USDT", "DAI"]);
const STABLE_MOVE = new Decimal("0.002");
const DEFAULT_MOVE = new Decimal("0.05");

/** An asset's typical daily relative move: the stress impact model's dailyVol, 0.2% for stablecoins, else 5%. */
function typicalMove(asset: string, params: RiskParams): Decimal {
  const vol = params.document.stress?.impact[asset]?.dailyVol;
  if (vol) return new Decimal(vol);
  return STABLE.has(asset) ? STABLE_MOVE : DEFAULT_MOVE;
}

/** Whether a new quote of `band.asset` leaves the band (a band of null always does, on any change). */
export function leavesBand(band: PriceBand, quote: { index: Decimal; mark: Decimal }): boolean {
  if (band.low === null || band.high === null) return true;
  return dmin(quote.index, quote.mark).lt(band.low) || dmax(quote.index, quote.mark).gt(band.high);
}
