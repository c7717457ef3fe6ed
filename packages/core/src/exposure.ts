import type { ExposureAsset, ExposureReport } from "@backing/contracts";
import { type AccountStatus, STATUSES } from "./account.ts";
import { DEPEG_ASSETS, LST_REFERENCE } from "./asset-classes.ts";
import { black76, impliedVol } from "./black76.ts";
import type { AccountBook, LinearPosition, Market, OptionPosition } from "./book.ts";
import {
  Decimal,
  decimalFloat,
  fromModelFloat,
  neutralString,
  ONE,
  requirementString,
  valueString,
  Wide,
  ZERO,
} from "./decimal.ts";
import {
  type DepthBook,
  type DepthBooks,
  type DepthLevel,
  depthNotionalWithin,
  impactPrice,
} from "./depth.ts";
import { type AccountEvaluation, evaluateAccount, liquidationString } from "./evaluate.ts";
import { type AccountAmounts, ClosedFormSolution, FixedAccountEvaluation } from "./fixed-evaluation.ts";
import { ExactFloatSum } from "./float-sum.ts";
import type { LiquidationSolution } from "./liquidation.ts";
import { yearsToExpiry } from "./margin.ts";
import type { HaircutTier, RiskParams } from "./params.ts";
import type { Portfolio } from "./portfolio-input.ts";
import {
  absAmount,
  addAsDecimal,
  amountDecimal,
  amountText,
  compareAmounts,
  ExactSum,
  exactAmount,
  formatFixed,
  negateAmount,
  type ScaledAmount,
  timesAsDecimal,
} from "./scaled.ts";
import { adlScore } from "./venue-liquidation.ts";

/** The moves of CumLiq and LDR (DESIGN §3.9): down for net long accounts, up for net short. */
export const CUM_LIQ_MOVES: readonly string[] = [
  "-0.2",
  "-0.1",
  "-0.05",
  "-0.02",
  "-0.01",
  "0.01",
  "0.02",
  "0.05",
  "0.1",
  "0.2",
];
/** Depeg sensitivity moves (reference §3.6 item 3: −1%, −5%, −13%, USDC's SVB low). */
export const DEPEG_MOVES: readonly string[] = ["-0.01", "-0.05", "-0.13"];
const DEPEG_FACTORS = DEPEG_MOVES.map((move) => ONE.plus(move));

/** A liquid staking token is wrong-way collateral behind a long in the asset it stakes. */
const STAKED = LST_REFERENCE;
const EXPIRY_BUCKETS: readonly { bucket: string; maxDays: number }[] = [
  { bucket: "0-7d", maxDays: 7 },
  { bucket: "7-30d", maxDays: 30 },
  { bucket: "30-90d", maxDays: 90 },
  { bucket: ">90d", maxDays: Number.POSITIVE_INFINITY },
];
const CLOSEST_LISTED = 20;
const CHANGES_LISTED = 100;
const EQUITY_CHANGES_LISTED = 20;
const TOP_N = [1, 5, 10, 20] as const;

export interface ExposureSettings {
  /** One side's depth within 1% of mid, USD. */
  depth: ReadonlyMap<string, Decimal>;
  depthMultiplier: Decimal;
  binWidth: Decimal;
  range: Decimal;
  /** The venue's books (DESIGN §3.11): where an asset has one, LDR and impact prices walk it. */
  books: DepthBooks;
  /** The impact notionals per asset: 200 USDT ÷ IMR at its maximum leverage, then $1M and $10M. */
  impactNotionals: (asset: string) => Decimal[];
}

/** The venue convention's impact margin notional, 200 USDT ÷ IMR at max leverage, then two large orders. */
const IMPACT_MARGIN = new Decimal(200);
const LARGE_ORDERS = [new Decimal(1_000_000), new Decimal(10_000_000)];

export function exposureSettings(params: RiskParams, books: DepthBooks = new Map()): ExposureSettings {
  const exposure = params.document.exposure;
  return {
    depth: new Map(Object.entries(exposure?.depth ?? {}).map(([asset, usd]) => [asset, new Decimal(usd)])),
    depthMultiplier: new Decimal(exposure?.depthMultiplier ?? "1"),
    binWidth: new Decimal(exposure?.heatmap.binWidth ?? "0.01"),
    range: new Decimal(exposure?.heatmap.range ?? "0.2"),
    books,
    impactNotionals: (asset) => {
      const maxLeverage = params.document.brackets[asset]?.[0]?.maxLeverage;
      return [...(maxLeverage ? [IMPACT_MARGIN.times(maxLeverage)] : []), ...LARGE_ORDERS];
    },
  };
}

/** An account as the previous report saw it (the `accounts` table of its CSV). */
export interface PreviousAccount {
  venue: string;
  status: AccountStatus;
  equity: Decimal;
}

export interface PreviousReport {
  asOf: string | null;
  accounts: ReadonlyMap<string, PreviousAccount>;
}

/** One row of the report's `accounts` table: what the next report compares against. */
export interface ExposureAccountRow {
  id: string;
  venue: string;
  status: AccountStatus;
  equity: string;
  initialMargin: string;
  maintenanceMargin: string;
  callAmount: string;
}

/** The k best items under `better`, kept sorted; memory O(k) however many are offered. */
class TopK<T> {
  readonly items: T[] = [];
  constructor(
    private readonly k: number,
    private readonly better: (a: T, b: T) => number,
  ) {}
  /** The k-th best item once k are held (anything worse cannot enter). */
  worst(): T | undefined {
    return this.items.length === this.k ? this.items[this.items.length - 1] : undefined;
  }
  offer(item: T): void {
    const { items } = this;
    const last = items[items.length - 1];
    if (items.length === this.k && last !== undefined && this.better(item, last) >= 0) return;
    let at = items.length;
    while (at > 0 && this.better(item, items[at - 1] as T) < 0) at--;
    items.splice(at, 0, item);
    if (items.length > this.k) items.pop();
  }
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Concentration of one quantity x_i ≥ 0 over accounts, streamed: share_i = x_i / Σx,
 * CR_N = Σ top-N shares, HHI = Σ (100·share_i)² = 10,000 · Σx² / (Σx)², effective N = 10,000 / HHI
 * (reference §3.3). Exact: only the final divisions round, at 50 digits.
 */
class ConcentrationAccumulator {
  private readonly total = new ExactSum(Wide);
  private readonly sumOfSquares = new ExactSum(Wide);
  private readonly top = new TopK<ScaledAmount>(20, (a, b) => compareAmounts(b, a));
  add(x: ScaledAmount): void {
    if (x.value === 0n) return;
    this.total.add(x);
    // Each square as the Decimal product it was: rounded at 50 digits, so the sum is the same.
    this.sumOfSquares.add(timesAsDecimal(x, x));
    this.top.offer(x);
  }
  partial(): ConcentrationPartial {
    return {
      total: this.total.text(),
      sumOfSquares: this.sumOfSquares.text(),
      top: this.top.items.map(amountText),
    };
  }
  merge(partial: ConcentrationPartial): void {
    this.total.addText(partial.total);
    this.sumOfSquares.addText(partial.sumOfSquares);
    for (const x of partial.top) this.top.offer(exactAmount(new Decimal(x)));
  }
  result(): ExposureAsset["concentration"]["gross"] {
    const total = this.total.decimal;
    const share = (n: number) =>
      total.isZero()
        ? "0"
        : neutralString(
            this.top.items
              .slice(0, n)
              .reduce((s, x) => s.plus(amountDecimal(x)), ZERO)
              .div(total),
          );
    const [top1, top5, top10, top20] = TOP_N.map(share) as [string, string, string, string];
    const hhi = total.isZero() ? ZERO : this.sumOfSquares.decimal.times(10_000).div(total.times(total));
    return {
      total: neutralString(total),
      top1,
      top5,
      top10,
      top20,
      hhi: neutralString(hhi),
      effectiveN: hhi.isZero() ? null : neutralString(new Decimal(10_000).div(hhi)),
    };
  }
}

/**
 * Option greeks summed in float64 (model maths), entering Decimal once, at output. The sums are
 * exact until then, so the report does not depend on the order (or the shards) accounts come in.
 */
class FloatGreeks {
  readonly delta = new ExactFloatSum();
  readonly gamma = new ExactFloatSum();
  readonly vega = new ExactFloatSum();
  add(size: number, greeks: { delta: number; gamma: number; vega: number }): void {
    this.delta.add(size * greeks.delta);
    this.gamma.add(size * greeks.gamma);
    this.vega.add(size * greeks.vega);
  }
  partial(): GreeksPartial {
    return { delta: this.delta.parts(), gamma: this.gamma.parts(), vega: this.vega.parts() };
  }
  merge(partial: GreeksPartial): void {
    this.delta.merge(partial.delta);
    this.gamma.merge(partial.gamma);
    this.vega.merge(partial.vega);
  }
}

const emptyGreeks = (): FloatGreeks => new FloatGreeks();

class AssetAccumulator {
  readonly long = new ExactSum();
  readonly short = new ExactSum();
  accounts = 0;
  optionPositions = 0;
  readonly greeks = emptyGreeks();
  readonly greeksByExpiry = EXPIRY_BUCKETS.map(emptyGreeks);
  readonly gross = new ConcentrationAccumulator();
  readonly net = new ConcentrationAccumulator();
  wrongWayAccounts = 0;
  readonly wrongWayCollateral = new ExactSum();
  readonly bins: { onFall: ExactSum; onRise: ExactSum }[];
  readonly inHeatmap = new ExactSum();
  readonly beyondHeatmap = new ExactSum();
  readonly noLiquidationPrice = new ExactSum();
  readonly cumLiq = CUM_LIQ_MOVES.map(() => new ExactSum());
  /** One interval's funding at the latest rates: Σ size × mark × rate over long perps, and short ones. */
  readonly fundingLongsPay = new ExactSum();
  readonly fundingShortsPay = new ExactSum();
  /** Profitable perps and futures: notional and profit by side, and the ADL queue (DESIGN §3.12). */
  readonly adlNotional = { long: new ExactSum(), short: new ExactSum() };
  readonly adlProfit = { long: new ExactSum(), short: new ExactSum() };
  readonly adlQueue = new TopK<AdlRow>(
    ADL_LISTED,
    (a, b) => b.score.comparedTo(a.score) || byId(a, b) || (a.instrument < b.instrument ? -1 : 1),
  );
  /** The mark, the bin edges and mark × (1 + Δ) for each move of CumLiq, as exact amounts. */
  readonly markAmount: ScaledAmount;
  readonly edgeAmounts: readonly ScaledAmount[];
  readonly levelAmounts: readonly ScaledAmount[];
  readonly markFloat: number;
  constructor(
    readonly mark: Decimal,
    readonly binEdges: readonly Decimal[],
  ) {
    this.bins = binEdges.slice(1).map(() => ({ onFall: new ExactSum(), onRise: new ExactSum() }));
    this.markAmount = exactAmount(mark);
    this.edgeAmounts = binEdges.map(exactAmount);
    this.levelAmounts = CUM_LIQ_MOVES.map((move) => exactAmount(mark.times(ONE.plus(move))));
    this.markFloat = mark.toNumber();
  }
}

/** A profitable position in the ADL queue: its account's Binance score, its notional and profit. */
interface AdlRow {
  id: string;
  venue: string;
  instrument: string;
  side: "long" | "short";
  score: Decimal;
  /** The score as a float, for the queue's screen. */
  roughScore: number;
  notional: Decimal;
  profit: Decimal;
}
const ADL_LISTED = 20;

/** The bin holding `price` in ascending `edges` ([from, to) bins), or −1 outside them. */
function binOf(edges: readonly ScaledAmount[], price: ScaledAmount): number {
  let low = 0;
  let high = edges.length - 1;
  if (
    compareAmounts(price, edges[0] as ScaledAmount) < 0 ||
    compareAmounts(price, edges[high] as ScaledAmount) >= 0
  )
    return -1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (compareAmounts(price, edges[middle] as ScaledAmount) >= 0) low = middle;
    else high = middle;
  }
  return low;
}

interface CollateralAccumulator {
  amount: ExactSum;
  raw: ExactSum;
  afterHaircut: ExactSum;
  accounts: number;
  depegLoss: ExactSum[];
}

interface ClosestRow {
  id: string;
  venue: string;
  status: AccountStatus;
  asset: string;
  mark: Decimal;
  liquidationPrice: string;
  distance: Decimal;
  roughDistance: number;
  notional: Decimal;
  equity: Decimal;
  maintenanceMargin: Decimal;
}

/** A shard's share of an exposure report: what `ExposureAggregator.merge` adds (JSON, exact decimals as strings). */
export interface ExposurePartial {
  accounts: number;
  byStatus: Record<AccountStatus, number>;
  totals: Record<
    | "equity"
    | "initialMargin"
    | "maintenanceMargin"
    | "callAmount"
    | "collateralRaw"
    | "collateralAfterHaircut",
    string
  >;
  assets: Record<string, AssetPartial>;
  collateral: Record<
    string,
    { amount: string; raw: string; afterHaircut: string; accounts: number; depegLoss: string[] }
  >;
  closest: (Omit<ClosestRow, "mark" | "distance" | "notional" | "equity" | "maintenanceMargin"> &
    Record<"mark" | "distance" | "notional" | "equity" | "maintenanceMargin", string>)[];
  newCalls: {
    id: string;
    venue: string;
    from: AccountStatus | null;
    to: AccountStatus;
    callAmount: string;
  }[];
  newCallCount: number;
  cured: { id: string; venue: string; from: AccountStatus; to: AccountStatus }[];
  curedCount: number;
  equityChanges: { id: string; venue: string; before: string; after: string; change: string }[];
  fundingAtRisk: { id: string; venue: string; payment: string; distance: string }[];
  fundingAtRiskCount: number;
}

interface ConcentrationPartial {
  total: string;
  sumOfSquares: string;
  top: string[];
}

interface GreeksPartial {
  delta: number[];
  gamma: number[];
  vega: number[];
}

interface AssetPartial {
  long: string;
  short: string;
  accounts: number;
  optionPositions: number;
  greeks: GreeksPartial;
  greeksByExpiry: GreeksPartial[];
  gross: ConcentrationPartial;
  net: ConcentrationPartial;
  wrongWayAccounts: number;
  wrongWayCollateral: string;
  bins: { onFall: string; onRise: string }[];
  inHeatmap: string;
  beyondHeatmap: string;
  noLiquidationPrice: string;
  cumLiq: string[];
  fundingLongsPay: string;
  fundingShortsPay: string;
  adlNotional: { long: string; short: string };
  adlProfit: { long: string; short: string };
  adlQueue: Record<Exclude<keyof AdlRow, "roughScore">, string>[];
}

const CALL_STATUSES: ReadonlySet<AccountStatus> = new Set(["MARGIN_CALL", "LIQUIDATION"]);

const NO_AMOUNT: ScaledAmount = { value: 0n, scale: 0 };

/** An amount as a float, for screens that decide nothing within their margin of it. */
const amountFloat = (amount: ScaledAmount) => Number(amount.value) / 10 ** amount.scale;

/** The evaluation's totals as exact amounts: read from the kernel's integers when it has them. */
function accountAmounts(evaluation: AccountEvaluation): AccountAmounts {
  if (evaluation instanceof FixedAccountEvaluation) return evaluation.amounts();
  const { risk } = evaluation;
  return {
    collateral: exactAmount(risk.collateralValue),
    unrealizedPnl: exactAmount(risk.unrealizedPnl),
    equity: exactAmount(risk.equity),
    initial: exactAmount(risk.initialMargin),
    maintenance: exactAmount(risk.maintenanceMargin),
    call: exactAmount(evaluation.callAmount),
  };
}

interface TierAmounts {
  from: ScaledAmount;
  upTo: ScaledAmount | null;
  weight: ScaledAmount;
  /** No haircut: the slice counts in full (valueBalance skips the product). */
  full: boolean;
}
const tierAmountsCache = new WeakMap<readonly HaircutTier[], TierAmounts[]>();
const NO_TIERS: readonly TierAmounts[] = [];

/** An asset's haircut tiers as exact amounts, once per tier table. */
function tierAmounts(params: RiskParams, asset: string): readonly TierAmounts[] {
  const tiers = params.collateral.get(asset);
  if (!tiers) return NO_TIERS;
  let amounts = tierAmountsCache.get(tiers);
  if (!amounts) {
    amounts = tiers.map((tier) => ({
      from: exactAmount(tier.from),
      upTo: tier.upTo ? exactAmount(tier.upTo) : null,
      weight: exactAmount(tier.weight),
      full: tier.haircut.isZero(),
    }));
    tierAmountsCache.set(tiers, amounts);
  }
  return amounts;
}

/**
 * `collateralLine` on exact amounts: USD value and counted value, each product and sum rounded
 * as the Decimal it stands for, so they are the same numbers. `tiers` null: in the portfolio
 * grid (un-haircut). `loanFactor`: 1 + the liability surcharge.
 */
function collateralAmounts(
  amount: ScaledAmount,
  index: ScaledAmount,
  tiers: readonly TierAmounts[] | null,
  loanFactor: ScaledAmount,
): { usdValue: ScaledAmount; counted: ScaledAmount } {
  const usdValue = timesAsDecimal(amount, index);
  if (!tiers) return { usdValue, counted: usdValue };
  if (usdValue.value < 0n) return { usdValue, counted: timesAsDecimal(usdValue, loanFactor) };
  let counted = NO_AMOUNT;
  for (const tier of tiers) {
    if (compareAmounts(usdValue, tier.from) <= 0) break;
    const to = tier.upTo && compareAmounts(usdValue, tier.upTo) > 0 ? tier.upTo : usdValue;
    const slice = addAsDecimal(to, negateAmount(tier.from));
    counted = addAsDecimal(counted, tier.full ? slice : timesAsDecimal(slice, tier.weight));
  }
  return { usdValue, counted };
}

/**
 * The exposure report (DESIGN §3.9), built a page of accounts at a time so the scheduled job holds
 * one page and a fixed number of aggregates, never the book (only `previous` is per account).
 *
 * Choices where the spec is silent (also in the README):
 * - long, short, net and gross are perps and futures at |size| × mark; options are reported as
 *   greeks (Black-76 at the given vol, or at the vol implied by the option's markPrice).
 * - Concentration per asset: gross basis x_i = Σ|size| × mark of account i, net basis
 *   x_i = |Σ size × mark|.
 * - Heatmap: each account's cross-margin liquidation price on the asset (all other prices fixed,
 *   the same solve as `backing evaluate`) carries the account's gross linear notional on it at the
 *   mark. Bins are [mark·(1 − range + i·w), mark·(1 − range + (i+1)·w)).
 * - CumLiq(Δ < 0) sums accounts liquidated when the price falls whose liquidation price is at or
 *   above mark·(1 + Δ) (an account already past it counts at every Δ); CumLiq(Δ > 0) the same
 *   upward. Depth(Δ) = depth₁% · |Δ| / 0.01 · depthMultiplier; LDR = CumLiq / Depth; LDR > 1 is a
 *   cascade warning.
 * - Depeg loss: Σ over accounts of the collateral value after haircut at the index minus at
 *   index·(1 + move), tiers applied per account (a loan in the asset gains).
 */
export class ExposureAggregator {
  private readonly settings: ExposureSettings;
  private readonly assets = new Map<string, AssetAccumulator>();
  private readonly collateral = new Map<string, CollateralAccumulator>();
  private readonly byStatus: Record<AccountStatus, number> = {
    HEALTHY: 0,
    WARNING: 0,
    MARGIN_CALL: 0,
    LIQUIDATION: 0,
  };
  private readonly totals = {
    equity: new ExactSum(Wide),
    initialMargin: new ExactSum(Wide),
    maintenanceMargin: new ExactSum(Wide),
    callAmount: new ExactSum(Wide),
    collateralRaw: new ExactSum(Wide),
    collateralAfterHaircut: new ExactSum(Wide),
  };
  /** Per collateral asset: its index and the depeg moves' shocked indexes, as exact amounts. */
  private readonly indexes = new Map<string, { index: ScaledAmount; shocked: ScaledAmount[] }>();
  private readonly loanFactor: ScaledAmount;
  private accountCount = 0;
  private readonly closest = new TopK<ClosestRow>(
    CLOSEST_LISTED,
    (a, b) => a.distance.comparedTo(b.distance) || byId(a, b) || (a.asset < b.asset ? -1 : 1),
  );
  private readonly newCalls = new TopK<{
    id: string;
    venue: string;
    from: AccountStatus | null;
    to: AccountStatus;
    callAmount: Decimal;
  }>(CHANGES_LISTED, (a, b) => b.callAmount.comparedTo(a.callAmount) || byId(a, b));
  private newCallCount = 0;
  private readonly cured = new TopK<{ id: string; venue: string; from: AccountStatus; to: AccountStatus }>(
    CHANGES_LISTED,
    byId,
  );
  private curedCount = 0;
  private readonly fundingAtRisk = new TopK<{
    id: string;
    venue: string;
    payment: Decimal;
    distance: Decimal;
  }>(
    CHANGES_LISTED,
    (a, b) => b.payment.minus(b.distance).comparedTo(a.payment.minus(a.distance)) || byId(a, b),
  );
  private fundingAtRiskCount = 0;
  private readonly equityChanges = new TopK<{
    id: string;
    venue: string;
    before: Decimal;
    after: Decimal;
    change: Decimal;
  }>(EQUITY_CHANGES_LISTED, (a, b) => b.change.abs().comparedTo(a.change.abs()) || byId(a, b));

  constructor(
    private readonly market: Market,
    private readonly params: RiskParams,
    private readonly previous: PreviousReport | null = null,
    /** The latest funding rate per venue and asset, when known (the stateful engine's prints). */
    private readonly fundingRates: ReadonlyMap<string, ReadonlyMap<string, Decimal>> | null = null,
    books: DepthBooks = new Map(),
  ) {
    this.settings = exposureSettings(params, books);
    this.loanFactor = exactAmount(ONE.plus(params.liabilitySurcharge));
  }

  private asset(name: string): AssetAccumulator {
    let accumulator = this.assets.get(name);
    if (!accumulator) {
      const mark = this.market.quotes.get(name)?.mark ?? ZERO;
      const { binWidth, range } = this.settings;
      const count = range.times(2).div(binWidth).ceil().toNumber();
      const low = ONE.minus(range);
      const edges = Array.from({ length: count + 1 }, (_, i) => mark.times(low.plus(binWidth.times(i))));
      accumulator = new AssetAccumulator(mark, edges);
      this.assets.set(name, accumulator);
    }
    return accumulator;
  }

  private collateralOf(name: string): CollateralAccumulator {
    let entry = this.collateral.get(name);
    if (!entry) {
      entry = {
        amount: new ExactSum(Wide),
        raw: new ExactSum(Wide),
        afterHaircut: new ExactSum(Wide),
        accounts: 0,
        depegLoss: DEPEG_MOVES.map(() => new ExactSum(Wide)),
      };
      this.collateral.set(name, entry);
    }
    return entry;
  }

  /** Adds accounts; returns their rows for the `accounts` table. */
  add(books: readonly AccountBook[]): ExposureAccountRow[] {
    return books.map((book) => this.addEvaluated(book, this.evaluate(book)));
  }

  /** The account's evaluation at this aggregator's market and params (what `add` runs). */
  evaluate(book: AccountBook): AccountEvaluation {
    return evaluateAccount(book, this.market, this.params);
  }

  /**
   * Adds an account already evaluated at the same market and params: one evaluation can feed
   * several aggregators (the book's and its venue's).
   */
  addEvaluated(book: AccountBook, evaluation: AccountEvaluation): ExposureAccountRow {
    const { params } = this;
    const { status } = evaluation;
    const amounts = accountAmounts(evaluation);
    this.accountCount++;
    this.byStatus[status]++;
    this.totals.equity.add(amounts.equity);
    this.totals.initialMargin.add(amounts.initial);
    this.totals.maintenanceMargin.add(amounts.maintenance);
    this.totals.callAmount.add(amounts.call);

    // Per underlying: gross |size| × mark and net size × mark of the perps and futures, each
    // product and running sum rounded as the Decimals they stand for.
    const gross = new Map<string, ScaledAmount>();
    const net = new Map<string, ScaledAmount>();
    let fundingPayment = ZERO;
    const profitable: { position: LinearPosition; notional: ScaledAmount; profit: ScaledAmount }[] = [];
    for (const position of book.positions) {
      const asset = this.asset(position.underlying);
      if (!gross.has(position.underlying)) {
        gross.set(position.underlying, NO_AMOUNT);
        net.set(position.underlying, NO_AMOUNT);
        asset.accounts++;
      }
      if (position.kind === "option") {
        this.addOption(asset, position);
        continue;
      }
      const size = exactAmount(position.size);
      const exposure = timesAsDecimal(size, asset.markAmount);
      const notional = absAmount(exposure);
      if (size.value > 0n) asset.long.add(notional);
      else asset.short.add(notional);
      gross.set(position.underlying, addAsDecimal(gross.get(position.underlying) as ScaledAmount, notional));
      net.set(position.underlying, addAsDecimal(net.get(position.underlying) as ScaledAmount, exposure));
      const rate =
        position.type === "perp" ? this.fundingRates?.get(book.venue)?.get(position.underlying) : undefined;
      if (rate) {
        // DESIGN §3.10: a positive rate means longs pay; a short's payment comes out negative (received).
        const payment = position.size.times(asset.mark).times(rate);
        (size.value > 0n ? asset.fundingLongsPay : asset.fundingShortsPay).add(exactAmount(payment));
        fundingPayment = fundingPayment.plus(payment);
      }
      if (size.value !== 0n) {
        const profit = timesAsDecimal(
          size,
          addAsDecimal(asset.markAmount, negateAmount(exactAmount(position.entryPrice))),
        );
        if (profit.value > 0n) profitable.push({ position, notional, profit });
      }
    }
    for (const name of gross.keys()) {
      const asset = this.asset(name);
      asset.gross.add(gross.get(name) as ScaledAmount);
      asset.net.add(absAmount(net.get(name) as ScaledAmount));
    }
    if (profitable.length > 0) this.addToAdlQueue(book, evaluation.risk, amounts, profitable);
    if (fundingPayment.gt(0)) {
      const distance = amountDecimal(addAsDecimal(amounts.equity, negateAmount(amounts.maintenance)));
      if (fundingPayment.gt(distance)) {
        this.fundingAtRiskCount++;
        this.fundingAtRisk.offer({ id: book.id, venue: book.venue, payment: fundingPayment, distance });
      }
    }

    const gridAssets =
      book.marginMode === "portfolio" ? new Set(book.positions.map((p) => p.underlying)) : null;
    for (const balance of book.collateral) {
      if (balance.amount.isZero()) continue;
      const { index, shocked } = this.indexOf(balance.asset);
      const inGrid = gridAssets?.has(balance.asset) ?? false;
      const amount = exactAmount(balance.amount);
      const tiers = inGrid ? null : tierAmounts(params, balance.asset);
      const line = collateralAmounts(amount, index, tiers, this.loanFactor);
      const entry = this.collateralOf(balance.asset);
      entry.amount.add(amount);
      entry.raw.add(line.usdValue);
      entry.afterHaircut.add(line.counted);
      entry.accounts++;
      this.totals.collateralRaw.add(line.usdValue);
      this.totals.collateralAfterHaircut.add(line.counted);
      if (DEPEG_ASSETS.has(balance.asset)) {
        for (const [m, shockedIndex] of shocked.entries()) {
          const after = collateralAmounts(amount, shockedIndex, tiers, this.loanFactor).counted;
          (entry.depegLoss[m] as ExactSum).add(addAsDecimal(line.counted, negateAmount(after)));
        }
      }
      const exposed = STAKED[balance.asset] ?? balance.asset;
      if (amount.value > 0n && (net.get(exposed)?.value ?? 0n) > 0n) {
        const asset = this.asset(exposed);
        asset.wrongWayAccounts++;
        asset.wrongWayCollateral.add(line.counted);
      }
    }

    // By key: destructured entries would be an array per underlying.
    for (const name of evaluation.liquidation.keys()) {
      const solution = evaluation.liquidation.get(name) as LiquidationSolution;
      const asset = this.asset(name);
      const notional = gross.get(name) ?? NO_AMOUNT;
      const price =
        solution instanceof ClosedFormSolution
          ? solution.amount()
          : solution.price
            ? exactAmount(solution.price)
            : null;
      if (!price) {
        asset.noLiquidationPrice.add(notional);
        continue;
      }
      // direction 0 with a price: equity is exactly at MM, liquidated by a move either way.
      const onFall = solution.direction !== -1;
      const onRise = solution.direction !== 1;
      const bin = binOf(asset.edgeAmounts, price);
      if (bin >= 0) {
        const entry = asset.bins[bin] as { onFall: ExactSum; onRise: ExactSum };
        (onFall ? entry.onFall : entry.onRise).add(notional);
        asset.inHeatmap.add(notional);
      } else asset.beyondHeatmap.add(notional);
      for (const [m, move] of CUM_LIQ_MOVES.entries()) {
        const level = asset.levelAmounts[m] as ScaledAmount;
        const reached = move.startsWith("-")
          ? onFall && compareAmounts(price, level) >= 0
          : onRise && compareAmounts(price, level) <= 0;
        if (reached) (asset.cumLiq[m] as ExactSum).add(notional);
      }
      // The exact distance (a 50-digit division) only for a candidate for the closest 20.
      const sign = solution.direction === -1 ? 1 : -1;
      const roughDistance = (sign * (amountFloat(price) - asset.markFloat)) / asset.markFloat;
      const worst = this.closest.worst();
      if (worst && roughDistance > worst.roughDistance + 1e-9) continue;
      const move = (solution.price as Decimal).minus(asset.mark).div(asset.mark);
      this.closest.offer({
        id: book.id,
        venue: book.venue,
        status,
        asset: name,
        mark: asset.mark,
        liquidationPrice: liquidationString(solution) as string,
        distance: solution.direction === -1 ? move : move.neg(),
        roughDistance,
        notional: amountDecimal(notional),
        equity: amountDecimal(amounts.equity),
        maintenanceMargin: amountDecimal(amounts.maintenance),
      });
    }

    const row: ExposureAccountRow = {
      id: book.id,
      venue: book.venue,
      status,
      equity: formatFixed(amounts.equity.value, amounts.equity.scale, "floor"),
      initialMargin: formatFixed(amounts.initial.value, amounts.initial.scale, "ceil"),
      maintenanceMargin: formatFixed(amounts.maintenance.value, amounts.maintenance.scale, "ceil"),
      callAmount: formatFixed(amounts.call.value, amounts.call.scale, "ceil"),
    };
    if (this.previous) this.compareWithPrevious(row, amountDecimal(amounts.call));
    return row;
  }

  /** A collateral asset's index and its depeg moves' shocked indexes (index × factor, as Decimals multiply). */
  private indexOf(asset: string): { index: ScaledAmount; shocked: ScaledAmount[] } {
    let entry = this.indexes.get(asset);
    if (!entry) {
      const index = this.market.quotes.get(asset)?.index ?? ZERO;
      entry = {
        index: exactAmount(index),
        shocked: DEPEG_FACTORS.map((factor) => exactAmount(index.times(factor))),
      };
      this.indexes.set(asset, entry);
    }
    return entry;
  }

  /**
   * The account's profitable perps and futures join their asset's ADL queue at the account's
   * Binance score (`adlScore`): they are what auto-deleveraging would close first. The score's
   * three divisions are made only for a position that can enter the listed 20: a float estimate
   * (within ~1e-15 of it) more than 1e-9 below the 20th's score cannot.
   */
  private addToAdlQueue(
    book: AccountBook,
    risk: AccountEvaluation["risk"],
    amounts: AccountAmounts,
    profitable: readonly { position: LinearPosition; notional: ScaledAmount; profit: ScaledAmount }[],
  ): void {
    const total = addAsDecimal(amounts.collateral, amounts.unrealizedPnl);
    if (amounts.unrealizedPnl.value <= 0n || total.value <= 0n) return;
    const pnl = amountFloat(amounts.unrealizedPnl);
    const roughScore =
      ((pnl / Math.max(1, amountFloat(amounts.collateral))) * amountFloat(amounts.maintenance)) /
      amountFloat(total);
    let score: Decimal | null = null;
    for (const { position, notional, profit } of profitable) {
      const asset = this.asset(position.underlying);
      const side = position.size.isPositive() ? "long" : "short";
      asset.adlNotional[side].add(notional);
      asset.adlProfit[side].add(profit);
      const worst = asset.adlQueue.worst();
      if (worst && roughScore < worst.roughScore * (1 - 1e-9)) continue;
      score ??= adlScore(risk) as Decimal;
      asset.adlQueue.offer({
        id: book.id,
        venue: book.venue,
        instrument: position.instrument,
        side,
        score,
        roughScore,
        notional: amountDecimal(notional),
        profit: amountDecimal(profit),
      });
    }
  }

  private addOption(asset: AssetAccumulator, position: OptionPosition): void {
    asset.optionPositions++;
    const forward = asset.markFloat;
    const years = yearsToExpiry(position, this.market.asOfMs);
    const strike = decimalFloat(position.strike);
    const vol =
      this.market.vols.get(position.underlying) ??
      (position.markPrice
        ? impliedVol(position.optionType, forward, strike, years, decimalFloat(position.markPrice))
        : undefined) ??
      0;
    const greeks = black76({ type: position.optionType, forward, strike, years, vol });
    const size = decimalFloat(position.size);
    const bucket = EXPIRY_BUCKETS.findIndex((b) => years * 365 <= b.maxDays);
    asset.greeks.add(size, greeks);
    (asset.greeksByExpiry[bucket] as FloatGreeks).add(size, greeks);
  }

  private compareWithPrevious(row: ExposureAccountRow, callAmount: Decimal): void {
    if (!this.previous) return;
    const before = this.previous.accounts.get(row.id);
    if (CALL_STATUSES.has(row.status) && !(before && CALL_STATUSES.has(before.status))) {
      this.newCallCount++;
      this.newCalls.offer({
        id: row.id,
        venue: row.venue,
        from: before?.status ?? null,
        to: row.status,
        callAmount,
      });
    }
    if (before && CALL_STATUSES.has(before.status) && !CALL_STATUSES.has(row.status)) {
      this.curedCount++;
      this.cured.offer({ id: row.id, venue: row.venue, from: before.status, to: row.status });
    }
    if (before) {
      const after = new Decimal(row.equity);
      this.equityChanges.offer({
        id: row.id,
        venue: row.venue,
        before: before.equity,
        after,
        change: after.minus(before.equity),
      });
    }
  }

  /** What this aggregator summed, for another process to merge (a shard of a sharded report). */
  partial(): ExposurePartial {
    const text = (d: Decimal | ExactSum) => (d instanceof ExactSum ? d.text() : d.toFixed());
    const assets: ExposurePartial["assets"] = {};
    for (const [name, a] of this.assets)
      assets[name] = {
        long: text(a.long),
        short: text(a.short),
        accounts: a.accounts,
        optionPositions: a.optionPositions,
        greeks: a.greeks.partial(),
        greeksByExpiry: a.greeksByExpiry.map((g) => g.partial()),
        gross: a.gross.partial(),
        net: a.net.partial(),
        wrongWayAccounts: a.wrongWayAccounts,
        wrongWayCollateral: text(a.wrongWayCollateral),
        bins: a.bins.map((b) => ({ onFall: text(b.onFall), onRise: text(b.onRise) })),
        inHeatmap: text(a.inHeatmap),
        beyondHeatmap: text(a.beyondHeatmap),
        noLiquidationPrice: text(a.noLiquidationPrice),
        cumLiq: a.cumLiq.map(text),
        fundingLongsPay: text(a.fundingLongsPay),
        fundingShortsPay: text(a.fundingShortsPay),
        adlNotional: { long: text(a.adlNotional.long), short: text(a.adlNotional.short) },
        adlProfit: { long: text(a.adlProfit.long), short: text(a.adlProfit.short) },
        adlQueue: a.adlQueue.items.map(({ roughScore: _, ...r }) => ({
          ...r,
          score: text(r.score),
          notional: text(r.notional),
          profit: text(r.profit),
        })),
      };
    const collateral: ExposurePartial["collateral"] = {};
    for (const [name, c] of this.collateral)
      collateral[name] = {
        amount: text(c.amount),
        raw: text(c.raw),
        afterHaircut: text(c.afterHaircut),
        accounts: c.accounts,
        depegLoss: c.depegLoss.map(text),
      };
    const t = this.totals;
    return {
      accounts: this.accountCount,
      byStatus: { ...this.byStatus },
      totals: {
        equity: text(t.equity),
        initialMargin: text(t.initialMargin),
        maintenanceMargin: text(t.maintenanceMargin),
        callAmount: text(t.callAmount),
        collateralRaw: text(t.collateralRaw),
        collateralAfterHaircut: text(t.collateralAfterHaircut),
      },
      assets,
      collateral,
      closest: this.closest.items.map((row) => ({
        ...row,
        mark: text(row.mark),
        distance: text(row.distance),
        notional: text(row.notional),
        equity: text(row.equity),
        maintenanceMargin: text(row.maintenanceMargin),
      })),
      newCalls: this.newCalls.items.map((c) => ({ ...c, callAmount: text(c.callAmount) })),
      newCallCount: this.newCallCount,
      cured: [...this.cured.items],
      curedCount: this.curedCount,
      equityChanges: this.equityChanges.items.map((c) => ({
        ...c,
        before: text(c.before),
        after: text(c.after),
        change: text(c.change),
      })),
      fundingAtRisk: this.fundingAtRisk.items.map((c) => ({
        ...c,
        payment: text(c.payment),
        distance: text(c.distance),
      })),
      fundingAtRiskCount: this.fundingAtRiskCount,
    };
  }

  /**
   * Adds another aggregator's partial over other accounts at the same market, params and previous
   * report. Sums are exact and the lists keep a total order, so merged shards report exactly what
   * one process reading every account reports, whatever the order of the shards.
   */
  merge(partial: ExposurePartial): void {
    const d = (x: string) => new Decimal(x);
    this.accountCount += partial.accounts;
    for (const status of STATUSES) this.byStatus[status] += partial.byStatus[status];
    for (const key of Object.keys(this.totals) as (keyof ExposurePartial["totals"])[])
      this.totals[key].addText(partial.totals[key]);
    for (const [name, p] of Object.entries(partial.assets)) {
      const a = this.asset(name);
      a.long.addText(p.long);
      a.short.addText(p.short);
      a.accounts += p.accounts;
      a.optionPositions += p.optionPositions;
      a.greeks.merge(p.greeks);
      for (const [i, g] of p.greeksByExpiry.entries()) (a.greeksByExpiry[i] as FloatGreeks).merge(g);
      a.gross.merge(p.gross);
      a.net.merge(p.net);
      a.wrongWayAccounts += p.wrongWayAccounts;
      a.wrongWayCollateral.addText(p.wrongWayCollateral);
      for (const [i, b] of p.bins.entries()) {
        const bin = a.bins[i] as { onFall: ExactSum; onRise: ExactSum };
        bin.onFall.addText(b.onFall);
        bin.onRise.addText(b.onRise);
      }
      a.inHeatmap.addText(p.inHeatmap);
      a.beyondHeatmap.addText(p.beyondHeatmap);
      a.noLiquidationPrice.addText(p.noLiquidationPrice);
      for (const [i, x] of p.cumLiq.entries()) (a.cumLiq[i] as ExactSum).addText(x);
      a.fundingLongsPay.addText(p.fundingLongsPay);
      a.fundingShortsPay.addText(p.fundingShortsPay);
      for (const side of ["long", "short"] as const) {
        a.adlNotional[side].addText(p.adlNotional[side]);
        a.adlProfit[side].addText(p.adlProfit[side]);
      }
      for (const r of p.adlQueue)
        a.adlQueue.offer({
          ...r,
          side: r.side as AdlRow["side"],
          score: d(r.score),
          roughScore: Number(r.score),
          notional: d(r.notional),
          profit: d(r.profit),
        });
    }
    for (const [name, p] of Object.entries(partial.collateral)) {
      const c = this.collateralOf(name);
      c.amount.addText(p.amount);
      c.raw.addText(p.raw);
      c.afterHaircut.addText(p.afterHaircut);
      c.accounts += p.accounts;
      for (const [i, x] of p.depegLoss.entries()) (c.depegLoss[i] as ExactSum).addText(x);
    }
    for (const row of partial.closest)
      this.closest.offer({
        ...row,
        mark: d(row.mark),
        distance: d(row.distance),
        notional: d(row.notional),
        equity: d(row.equity),
        maintenanceMargin: d(row.maintenanceMargin),
      });
    for (const c of partial.newCalls) this.newCalls.offer({ ...c, callAmount: d(c.callAmount) });
    this.newCallCount += partial.newCallCount;
    for (const c of partial.cured) this.cured.offer(c);
    this.curedCount += partial.curedCount;
    for (const c of partial.equityChanges)
      this.equityChanges.offer({ ...c, before: d(c.before), after: d(c.after), change: d(c.change) });
    for (const c of partial.fundingAtRisk)
      this.fundingAtRisk.offer({ ...c, payment: d(c.payment), distance: d(c.distance) });
    this.fundingAtRiskCount += partial.fundingAtRiskCount;
  }

  /**
   * `adlDeficit`: the bad debt past the insurance fund in the largest stress scenario (the latest
   * stress report's); each asset then says how much of its ADL queue would be deleveraged if that
   * deficit fell on it alone.
   */
  report(asOf: string, adlDeficit: Decimal | null = null): ExposureReport {
    const { settings } = this;
    const assets: ExposureReport["assets"] = {};
    for (const name of [...this.assets.keys()].sort()) {
      const a = this.assets.get(name) as AssetAccumulator;
      const book = settings.books.get(name);
      const depth1 = settings.depth.get(name);
      const depth = book
        ? CUM_LIQ_MOVES.map((move) =>
            depthNotionalWithin(book, a.mark, new Decimal(move), settings.depthMultiplier),
          )
        : depth1
          ? CUM_LIQ_MOVES.map((move) =>
              depth1.times(new Decimal(move).abs()).div("0.01").times(settings.depthMultiplier),
            )
          : null;
      const ldr = CUM_LIQ_MOVES.map((_, m) =>
        depth?.[m]?.gt(0) ? (a.cumLiq[m] as ExactSum).decimal.div(depth[m] as Decimal) : null,
      );
      assets[name] = {
        mark: a.mark.toFixed(),
        long: neutralString(a.long.decimal),
        short: neutralString(a.short.decimal),
        net: neutralString(a.long.decimal.minus(a.short.decimal)),
        gross: neutralString(a.long.decimal.plus(a.short.decimal)),
        accounts: a.accounts,
        options: {
          positions: a.optionPositions,
          ...greeksStrings(a.greeks, a.mark),
          byExpiry: EXPIRY_BUCKETS.map((b, i) => ({
            bucket: b.bucket,
            ...greeksStrings(a.greeksByExpiry[i] as FloatGreeks, a.mark),
          })),
        },
        concentration: { gross: a.gross.result(), net: a.net.result() },
        wrongWay: {
          accounts: a.wrongWayAccounts,
          collateralAfterHaircut: valueString(a.wrongWayCollateral.decimal),
        },
        heatmap: a.bins.map((bin, i) => ({
          from: neutralString(a.binEdges[i] as Decimal),
          to: neutralString(a.binEdges[i + 1] as Decimal),
          notional: neutralString(bin.onFall.decimal.plus(bin.onRise.decimal)),
          onFall: neutralString(bin.onFall.decimal),
          onRise: neutralString(bin.onRise.decimal),
        })),
        liquidation: {
          inHeatmap: neutralString(a.inHeatmap.decimal),
          beyondHeatmap: neutralString(a.beyondHeatmap.decimal),
          noLiquidationPrice: neutralString(a.noLiquidationPrice.decimal),
        },
        cumLiq: byMove(a.cumLiq.map((sum) => neutralString(sum.decimal))),
        depth: depth ? byMove(depth.map(neutralString)) : null,
        depthSource: book ? "book" : depth1 ? "params" : null,
        impact: book ? impactRows(book, a.mark, settings.impactNotionals(name)) : null,
        book: book ? bookCurve(book, a.mark, settings) : null,
        ldr: byMove(ldr.map((r) => (r ? neutralString(r) : null))),
        cascadeWarnings: CUM_LIQ_MOVES.filter((_, m) => ldr[m]?.gt(1)),
        adl: adlSection(a, adlDeficit),
        ...(this.fundingRates
          ? {
              funding: {
                longsPay: neutralString(a.fundingLongsPay.decimal),
                shortsPay: neutralString(a.fundingShortsPay.decimal),
                net: neutralString(a.fundingLongsPay.decimal.plus(a.fundingShortsPay.decimal)),
              },
            }
          : {}),
      };
    }
    const totalCounted = this.totals.collateralAfterHaircut.decimal;
    const collateral: ExposureReport["collateral"] = {};
    for (const name of [...this.collateral.keys()].sort()) {
      const c = this.collateral.get(name) as CollateralAccumulator;
      collateral[name] = {
        amount: c.amount.text(),
        raw: valueString(c.raw.decimal),
        afterHaircut: valueString(c.afterHaircut.decimal),
        share: totalCounted.gt(0) ? neutralString(c.afterHaircut.decimal.div(totalCounted)) : "0",
        accounts: c.accounts,
        ...(DEPEG_ASSETS.has(name)
          ? {
              depeg: Object.fromEntries(
                DEPEG_MOVES.map((move, m) => [move, requirementString((c.depegLoss[m] as ExactSum).decimal)]),
              ),
            }
          : {}),
      };
    }
    return {
      asOf,
      paramsVersion: this.params.version,
      settings: {
        binWidth: settings.binWidth.toFixed(),
        range: settings.range.toFixed(),
        depthMultiplier: settings.depthMultiplier.toFixed(),
      },
      accounts: this.accountCount,
      totals: {
        equity: valueString(this.totals.equity.decimal),
        initialMargin: requirementString(this.totals.initialMargin.decimal),
        maintenanceMargin: requirementString(this.totals.maintenanceMargin.decimal),
        callAmount: requirementString(this.totals.callAmount.decimal),
        collateralRaw: valueString(this.totals.collateralRaw.decimal),
        collateralAfterHaircut: valueString(this.totals.collateralAfterHaircut.decimal),
      },
      assets,
      collateral,
      accountsByStatus: Object.fromEntries(
        [...STATUSES].reverse().map((s) => [s, this.byStatus[s]]),
      ) as ExposureReport["accountsByStatus"],
      closestToLiquidation: this.closest.items.map((row) => ({
        id: row.id,
        venue: row.venue,
        status: row.status,
        asset: row.asset,
        mark: row.mark.toFixed(),
        liquidationPrice: row.liquidationPrice,
        distance: neutralString(row.distance),
        notional: neutralString(row.notional),
        equity: valueString(row.equity),
        maintenanceMargin: requirementString(row.maintenanceMargin),
      })),
      ...(this.fundingRates
        ? {
            fundingAtRisk: {
              count: this.fundingAtRiskCount,
              accounts: this.fundingAtRisk.items.map((c) => ({
                id: c.id,
                venue: c.venue,
                payment: requirementString(c.payment),
                distanceToMaintenance: valueString(c.distance),
              })),
            },
          }
        : {}),
      changes: this.previous
        ? {
            previousAsOf: this.previous.asOf,
            newMarginCalls: {
              count: this.newCallCount,
              accounts: this.newCalls.items.map((c) => ({
                ...c,
                callAmount: requirementString(c.callAmount),
              })),
            },
            cured: { count: this.curedCount, accounts: this.cured.items },
            largestEquityChanges: this.equityChanges.items.map((c) => ({
              id: c.id,
              venue: c.venue,
              before: c.before.toFixed(),
              after: c.after.toFixed(),
              change: c.change.toFixed(),
            })),
          }
        : null,
    };
  }
}

/**
 * An asset's ADL exposure: its profitable notional and profit by side, the queue in rank order,
 * and, given a deficit past the fund, what deleveraging the queue in order would close: each
 * position gives up its profit until the deficit is covered, the last one pro rata (notional in
 * proportion to the profit taken). `coveredByQueue` false: the listed 20 were not enough.
 */
function adlSection(a: AssetAccumulator, deficit: Decimal | null) {
  let remaining = deficit ?? ZERO;
  let deleveraged = ZERO;
  for (const row of a.adlQueue.items) {
    if (remaining.lte(0)) break;
    const taken = Decimal.min(row.profit, remaining);
    deleveraged = deleveraged.plus(row.notional.times(taken).div(row.profit));
    remaining = remaining.minus(taken);
  }
  return {
    profitableNotional: {
      long: neutralString(a.adlNotional.long.decimal),
      short: neutralString(a.adlNotional.short.decimal),
    },
    profit: { long: valueString(a.adlProfit.long.decimal), short: valueString(a.adlProfit.short.decimal) },
    queue: a.adlQueue.items.map((row, i) => ({
      rank: i + 1,
      id: row.id,
      venue: row.venue,
      instrument: row.instrument,
      side: row.side,
      score: neutralString(row.score),
      notional: neutralString(row.notional),
      profit: valueString(row.profit),
    })),
    deficit: deficit ? requirementString(deficit) : null,
    deleveragedNotional: deficit ? neutralString(deleveraged) : null,
    coveredByQueue: deficit ? remaining.lte(0) : null,
  };
}

/** Impact bid and ask per notional (the venue convention's, then $1M and $10M). */
function impactRows(book: DepthBook, mark: Decimal, notionals: readonly Decimal[]) {
  const price = (p: Decimal | null) => (p ? neutralString(p) : null);
  return notionals.map((notional) => ({
    notional: notional.toFixed(),
    bid: price(impactPrice(book, mark, notional, "bids")),
    ask: price(impactPrice(book, mark, notional, "asks")),
  }));
}

/** The book's levels within the heatmap's range, moved to the mark, with the USD depth from the mark to each. */
function bookCurve(book: DepthBook, mark: Decimal, settings: ExposureSettings) {
  const scale = mark.div(book.mid);
  const side = (levels: readonly DepthLevel[], falling: boolean) => {
    const bound = ONE.plus(falling ? settings.range.neg() : settings.range);
    let cumulative = ZERO;
    const points: { price: string; cumulative: string }[] = [];
    for (const level of levels) {
      if (falling ? level.ratio.lt(bound) : level.ratio.gt(bound)) break;
      const price = level.price.times(scale);
      cumulative = cumulative.plus(price.times(level.size).times(settings.depthMultiplier));
      points.push({ price: neutralString(price), cumulative: neutralString(cumulative) });
    }
    return points;
  };
  return { timestamp: book.timestamp, bids: side(book.bids, true), asks: side(book.asks, false) };
}

function byMove<T>(values: readonly T[]): Record<string, T> {
  return Object.fromEntries(CUM_LIQ_MOVES.map((move, m) => [move, values[m] as T]));
}

/** The float → Decimal boundary for greeks: gammaDollar = Γ·S²/100, vega per vol point = ν/100. */
function greeksStrings(greeks: FloatGreeks, mark: Decimal) {
  const S = mark.toNumber();
  const delta = greeks.delta.value();
  return {
    delta: neutralString(fromModelFloat(delta)),
    deltaNotional: neutralString(fromModelFloat(delta).times(mark)),
    gammaDollar: neutralString(fromModelFloat((greeks.gamma.value() * S * S) / 100)),
    vega: neutralString(fromModelFloat(greeks.vega.value() / 100)),
  };
}

/** The aggregator of a portfolio document: its market, params and order books; no funding rates. */
export const portfolioAggregator = (portfolio: Portfolio, previous: PreviousReport | null = null) =>
  new ExposureAggregator(portfolio.market, portfolio.params, previous, null, portfolio.depth);

/** The exposure report of a portfolio document (`backing report exposure <file>`). */
export function exposureReport(
  portfolio: Portfolio,
  previous: PreviousReport | null = null,
  adlDeficit: Decimal | null = null,
): { report: ExposureReport; accounts: ExposureAccountRow[] } {
  const aggregator = portfolioAggregator(portfolio, previous);
  const accounts = aggregator.add(portfolio.accounts);
  return { report: aggregator.report(portfolio.asOf, adlDeficit), accounts };
}
