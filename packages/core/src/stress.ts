import type { Scenario, ScenarioPack, StressReport } from "@backing/contracts";
import type { AccountStatus } from "./account.ts";
import { LST_REFERENCE } from "./asset-classes.ts";
import { black76Price, impliedVol } from "./black76.ts";
import type { AccountBook, Market, Quote } from "./book.ts";
import { Decimal, fromModelFloat, neutralString, ONE, ZERO } from "./decimal.ts";
import { marginTotals } from "./kernel.ts";
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

/** A price never falls below this share of its level, however severe the scenario (k up to 5). */
const PRICE_FLOOR = new Decimal("0.0001");
const MIN_VOL = 0.01;

export interface StressSettings {
  insuranceFund: Decimal;
  impact: ReadonlyMap<string, { Y: number; dailyVol: number; dailyVolume: number }>;
  maxCascadeRounds: number;
}

export function stressSettings(params: RiskParams): StressSettings {
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

const optionModels = new WeakMap<AccountBook, OptionModel[]>();
function optionModelsOf(book: AccountBook, base: Market): OptionModel[] {
  let models = optionModels.get(book);
  if (!models) {
    models = book.positions.flatMap((p) => {
      if (p.kind !== "option") return [];
      const years = yearsToExpiry(p, base.asOfMs);
      const forward = (base.quotes.get(p.underlying) as Quote).mark.toNumber();
      const strike = p.strike.toNumber();
      // An option given only a markPrice is revalued around its implied vol.
      const vol =
        base.vols.get(p.underlying) ??
        (p.markPrice
          ? impliedVol(p.optionType, forward, strike, years, p.markPrice.toNumber())
          : undefined) ??
        MIN_VOL;
      return [{ type: p.optionType, size: p.size.toNumber(), strike, years, vol, underlying: p.underlying }];
    });
    optionModels.set(book, models);
  }
  return models;
}

/**
 * The options of an account under a stressed market, in float64: Black-76 at the stressed
 * underlying and shifted vol, value = size × mark, and the short-option IM/MM of §3.3. This is the
 * stress engine's one float → exact boundary: the three sums enter (as 15 significant digits, like
 * `fromModelFloat`) once per account.
 */
function optionsUnderStress(
  models: OptionModel[],
  market: Market,
  params: RiskParams,
  volShift: (asset: string) => number,
) {
  const { shortInitialBase: base, shortInitialFloor: floor, shortMaintenance: maint } = params.options;
  const [b, f, m] = [base.toNumber(), floor.toNumber(), maint.toNumber()];
  let value = 0;
  let initial = 0;
  let maintenance = 0;
  for (const o of models) {
    const S = (market.quotes.get(o.underlying) as Quote).mark.toNumber();
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
  return {
    value: scaledFromFloat(value),
    initial: scaledFromFloat(initial),
    maintenance: scaledFromFloat(maintenance),
  };
}

/** One account after a scenario; amounts are exact integers at scale 54 (see scaled.ts). */
export interface AccountOutcome {
  id: string;
  equity: bigint;
  maintenance: bigint;
  status: AccountStatus;
  /** Cascade round in which the account was force-closed (0: not closed). */
  closedInRound: number;
}

/** The perps, futures and collateral of a book, compiled once by the kernel across scenarios and rounds. */
const linearParts = new WeakMap<AccountBook, AccountBook>();
function linearPart(book: AccountBook): AccountBook {
  let part = linearParts.get(book);
  if (!part) {
    part = { ...book, positions: book.positions.filter((p) => p.kind === "linear") };
    linearParts.set(book, part);
  }
  return part;
}

const scaledParameters = new WeakMap<Decimal, bigint>();
/** A parameter read for every account (the warning buffer) converted once. */
function scaledParameter(value: Decimal): bigint {
  let scaled = scaledParameters.get(value);
  if (scaled === undefined) {
    scaled = toScaled(value);
    scaledParameters.set(value, scaled);
  }
  return scaled;
}

/**
 * Equity, MM and status of a book under a stressed market. Standard model: the kernel on the linear
 * part (compiled once per book) plus the options in float (`optionsUnderStress`); portfolio model:
 * the whole book through the kernel with its options re-marked.
 */
function evaluateAt(
  book: AccountBook,
  base: Market,
  market: Market,
  params: RiskParams,
  volShift: (asset: string) => number,
): Omit<AccountOutcome, "closedInRound"> {
  const models = optionModelsOf(book, base);
  const warning = scaledParameter(params.status.warningBuffer);
  if (book.marginMode === "portfolio" || models.length === 0) {
    const target =
      book.marginMode === "portfolio" ? remarkForPortfolio(book, base, market, volShift) : linearPart(book);
    const totals = scaledTotals(marginTotals(target, market, params));
    return {
      id: book.id,
      equity: totals.equity,
      maintenance: totals.maintenance,
      status: scaledStatus(totals, warning),
    };
  }
  const linear = scaledTotals(marginTotals(linearPart(book), market, params));
  const options = optionsUnderStress(models, market, params, volShift);
  const totals: ScaledTotals = {
    equity: linear.equity + options.value,
    initial: linear.initial + options.initial,
    initialFraction: linear.initialFraction,
    maintenance: linear.maintenance + options.maintenance,
  };
  return {
    id: book.id,
    equity: totals.equity,
    maintenance: totals.maintenance,
    status: scaledStatus(totals, warning),
  };
}

/** Portfolio-margin books go through the grid whole: their options get stressed marks first. */
function remarkForPortfolio(
  book: AccountBook,
  base: Market,
  market: Market,
  volShift: (asset: string) => number,
): AccountBook {
  const models = optionModelsOf(book, base);
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
  /** Bad debt at the shocked prices, before any cascade (scale 54). */
  badDebtBeforeCascade: bigint;
  breaksFirst: string[];
}

export const badDebtOf = (o: { equity: bigint }) => (o.equity < 0n ? -o.equity : 0n);
export const deficitOf = (o: { equity: bigint; maintenance: bigint }) =>
  o.maintenance > o.equity ? o.maintenance - o.equity : 0n;

/**
 * One scenario at severity k, as passes over the book so a stored book can be streamed page by
 * page with memory bounded by the accounts that fail (not the book).
 *
 * After the shock every account is evaluated. With a cascade, the accounts in LIQUIDATION are
 * force-closed: their perps and futures are sold (longs) or bought (shorts) into a book of depth
 * V × depthMultiplier, moving each asset by the square-root law ΔP/P = Y·σ_daily·sqrt(|Q|/V_eff) on
 * the cumulative net forced notional Q; a closed account's equity is fixed at the prices right
 * after its round. The others are re-evaluated at the new prices and the rounds repeat until
 * nobody new fails (the fixed point p* = p_shock·(1 − I(Q(p*)))) or maxCascadeRounds.
 *
 * Pass r evaluates at the prices after round r − 1 (the shocked prices for r = 1): it freezes the
 * accounts closed in round r − 1 and collects the open accounts that now fail (round r). `endPass`
 * applies their flow. Once a pass finds nobody new, one more pass (`final`) reports every account.
 */
export class ScenarioRunner {
  readonly shocked: Market;
  prices: Market;
  rounds = 0;
  final = false;
  readonly forcedNotional = new Map<string, Decimal>();
  badDebtBeforeCascade = 0n;
  private readonly netFlow = new Map<string, Decimal>();
  /** Accounts closed in a round (id → round) and, once frozen, their outcome. */
  private readonly closed = new Map<string, number>();
  private readonly frozen = new Map<string, AccountOutcome>();
  private failingThisPass: string[] = [];
  /** The first pass (at the shocked prices) also records the pre-cascade bad debt and first breaks. */
  private firstPassDone = false;
  /** Forced flow of this pass's failures, applied by endPass if the round goes ahead. */
  private pendingFlow: { asset: string; notional: Decimal }[] = [];
  private firstBreaks: { id: string; deficit: bigint }[] = [];
  private readonly cascades: boolean;

  constructor(
    private readonly market: Market,
    private readonly params: RiskParams,
    private readonly scenario: Scenario,
    private readonly k: Decimal,
    private readonly settings: StressSettings,
  ) {
    this.shocked = shockMarket(market, scenario, k);
    this.prices = this.shocked;
    this.cascades = scenario.cascade && settings.impact.size > 0;
    // Without a cascade the shocked prices are final: one pass reports everything.
    this.final = !this.cascades;
  }

  /** Evaluates one page of the book in the current pass; in the final pass returns the outcomes. */
  pass(books: readonly AccountBook[]): AccountOutcome[] {
    const outcomes: AccountOutcome[] = [];
    for (const book of books) {
      const closedIn = this.closed.get(book.id);
      if (closedIn !== undefined) {
        let outcome = this.frozen.get(book.id);
        if (!outcome) {
          outcome = {
            ...this.evaluate(book),
            status: "LIQUIDATION",
            closedInRound: closedIn,
          };
          this.frozen.set(book.id, outcome);
        }
        if (this.final) outcomes.push(outcome);
        continue;
      }
      const outcome: AccountOutcome = {
        ...this.evaluate(book),
        closedInRound: 0,
      };
      if (!this.firstPassDone) {
        this.badDebtBeforeCascade += badDebtOf(outcome);
        if (outcome.status === "LIQUIDATION") this.noteFirstBreak(outcome);
      }
      if (this.final) outcomes.push(outcome);
      else if (this.cascades && outcome.status === "LIQUIDATION") this.fail(book);
    }
    return outcomes;
  }

  private readonly volShift = (asset: string) =>
    Number(this.scenario.shocks[asset]?.vol ?? "0") * this.k.toNumber();

  private evaluate(book: AccountBook) {
    return evaluateAt(book, this.market, this.prices, this.params, this.volShift);
  }

  private noteFirstBreak(outcome: AccountOutcome): void {
    this.firstBreaks.push({ id: outcome.id, deficit: deficitOf(outcome) });
    this.firstBreaks.sort((a, b) =>
      a.deficit === b.deficit ? a.id.localeCompare(b.id) : b.deficit > a.deficit ? 1 : -1,
    );
    if (this.firstBreaks.length > 10) this.firstBreaks.length = 10;
  }

  private fail(book: AccountBook): void {
    this.failingThisPass.push(book.id);
    for (const p of book.positions) {
      if (p.kind !== "linear" || p.size.isZero()) continue;
      const notional = p.size.times((this.prices.quotes.get(p.underlying) as Quote).mark);
      // Forced only if its round goes ahead: at the round cap the account is never closed.
      this.pendingFlow.push({ asset: p.underlying, notional });
    }
  }

  /** Ends a pass: applies this round's forced flow, or switches to the final pass when nobody new failed. */
  endPass(): void {
    this.firstPassDone = true;
    if (this.final) return;
    if (this.failingThisPass.length === 0 || this.rounds >= this.settings.maxCascadeRounds) {
      this.final = true;
      this.failingThisPass = [];
      this.pendingFlow = [];
      return;
    }
    this.rounds++;
    for (const id of this.failingThisPass) this.closed.set(id, this.rounds);
    for (const { asset, notional } of this.pendingFlow) {
      this.netFlow.set(asset, (this.netFlow.get(asset) ?? ZERO).plus(notional));
      this.forcedNotional.set(asset, (this.forcedNotional.get(asset) ?? ZERO).plus(notional.abs()));
    }
    this.failingThisPass = [];
    this.pendingFlow = [];
    const quotes = new Map(this.shocked.quotes);
    const depth = Number(this.scenario.depthMultiplier);
    for (const [asset, flow] of this.netFlow) {
      const impact = this.settings.impact.get(asset);
      const quote = this.shocked.quotes.get(asset);
      if (!impact || !quote || flow.isZero()) continue;
      const move =
        impact.Y * impact.dailyVol * Math.sqrt(Math.abs(flow.toNumber()) / (impact.dailyVolume * depth));
      // Net selling (long closeouts) pushes the price down, net buying up.
      const factor = flow.isPositive() ? Math.max(1 - move, PRICE_FLOOR.toNumber()) : 1 + move;
      quotes.set(asset, scaleQuote(quote, fromModelFloat(factor)));
    }
    this.prices = { ...this.shocked, quotes };
  }

  get breaksFirst(): string[] {
    return this.firstBreaks.map((b) => b.id);
  }

  get finalPrices(): Map<string, Decimal> {
    return new Map([...this.prices.quotes].map(([asset, q]) => [asset, q.mark]));
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
  return {
    accounts,
    rounds: runner.rounds,
    finalPrices: runner.finalPrices,
    forcedNotional: runner.forcedNotional,
    badDebtBeforeCascade: runner.badDebtBeforeCascade,
    breaksFirst: runner.breaksFirst,
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
  };
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
  private readonly largest: { id: string; badDebt: bigint }[] = [];

  /** Adds an account and returns its report row. */
  add(o: AccountOutcome): StressReport["scenarios"][number]["accounts"][number] {
    const badDebt = badDebtOf(o);
    const deficit = deficitOf(o);
    this.byStatus[o.status]++;
    this.totalBadDebt += badDebt;
    this.totalDeficit += deficit;
    if (badDebt > 0n) {
      this.largest.push({ id: o.id, badDebt });
      this.largest.sort((a, b) =>
        a.badDebt === b.badDebt ? a.id.localeCompare(b.id) : b.badDebt > a.badDebt ? 1 : -1,
      );
      if (this.largest.length > 2) this.largest.length = 2;
    }
    return {
      id: o.id,
      equity: formatScaled(o.equity, "down"),
      maintenanceMargin: formatScaled(o.maintenance, "up"),
      status: o.status,
      deficit: formatScaled(deficit, "up"),
      badDebt: formatScaled(badDebt, "up"),
    };
  }

  /** Everything of the scenario's entry but `id`, `accounts` and `reverseSeverity`. */
  aggregates(
    settings: StressSettings,
    run: {
      rounds: number;
      finalPrices: Map<string, Decimal>;
      forcedNotional: Map<string, Decimal>;
      badDebtBeforeCascade: bigint;
      breaksFirst: string[];
    },
  ) {
    const cover1 = this.largest[0]?.badDebt ?? 0n;
    const cover2 = cover1 + (this.largest[1]?.badDebt ?? 0n);
    const added = this.totalBadDebt - run.badDebtBeforeCascade;
    return {
      accountsByStatus: { ...this.byStatus },
      totalDeficit: formatScaled(this.totalDeficit, "up"),
      totalBadDebt: formatScaled(this.totalBadDebt, "up"),
      insuranceFundAfter: formatScaled(toScaled(settings.insuranceFund) - this.totalBadDebt, "down"),
      cover1: formatScaled(cover1, "up"),
      cover2: formatScaled(cover2, "up"),
      coverAccounts: this.largest.map((l) => l.id),
      cascade: {
        rounds: run.rounds,
        finalPrices: Object.fromEntries([...run.finalPrices].map(([a, p]) => [a, neutralString(p)])),
        forcedNotional: Object.fromEntries([...run.forcedNotional].map(([a, n]) => [a, neutralString(n)])),
        addedBadDebt: formatScaled(added > 0n ? added : 0n, "up"),
      },
      breaksFirst: run.breaksFirst,
    };
  }
}

/** The pack over the book: DESIGN §3.8's report. */
export function stressReport(
  portfolio: { asOf: string; market: Market; params: RiskParams; accounts: readonly AccountBook[] },
  pack: ScenarioPack,
  options: StressOptions = {},
): StressReport {
  const settings = stressSettings(portfolio.params);
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
