import { type InputIssue, issuesFromZod, PortfolioDocument, RiskParamsDocument } from "@backing/contracts";
import type { AccountBook, LinearPosition, Market, Position, Quote } from "./book.ts";
import { plainDecimal, ZERO } from "./decimal.ts";
import { type DepthBook, depthBooks } from "./depth.ts";
import { buildRiskParams, mergeParams, type RiskParams } from "./params.ts";

/** Bad input, with every offending path. Callers print the issues and exit 2. */
export class PortfolioInputError extends Error {
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[], options?: { cause?: unknown }) {
    super(
      `invalid portfolio document:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
      options,
    );
    this.name = "PortfolioInputError";
    this.issues = issues;
  }
}

const positionPath = (account: number, position: number) => `accounts[${account}].positions[${position}]`;

export interface Portfolio {
  asOf: string;
  market: Market;
  params: RiskParams;
  accounts: AccountBook[];
  /** The document's order-book snapshots by asset (DESIGN §3.11). */
  depth: Map<string, DepthBook>;
}

/**
 * The edge of every evaluation: schema-check the document, merge its `params` over the defaults and
 * check the result, then check what only the whole document can tell (unknown assets, missing
 * prices, expired instruments, duplicate ids) and build the exact domain values.
 */
export function parsePortfolio(input: unknown, defaults: RiskParamsDocument): Portfolio {
  const parsed = PortfolioDocument.safeParse(input);
  if (!parsed.success) throw new PortfolioInputError(issuesFromZod(parsed.error));
  const document = parsed.data;

  const merged = RiskParamsDocument.safeParse(mergeParams(defaults, document.params));
  if (!merged.success) throw new PortfolioInputError(issuesFromZod(merged.error, ["params"]));
  const params = buildRiskParams(merged.data);

  const asOfMs = Date.parse(document.asOf);
  const quotes = new Map<string, Quote>();
  for (const [asset, quote] of Object.entries(document.prices)) {
    const index = plainDecimal(quote.index);
    quotes.set(asset, { index, mark: quote.mark === undefined ? index : plainDecimal(quote.mark) });
  }
  const vols = new Map(Object.entries(document.volatility).map(([asset, vol]) => [asset, Number(vol)]));
  const market: Market = { asOfMs, quotes, vols };

  const issues: InputIssue[] = [];
  const firstIndexOfId = new Map<string, number>();
  // A book's positions share a few expiries: each is parsed once.
  const expiries = new Map<string, number>();
  const expiryMs = (expiry: string) => {
    let ms = expiries.get(expiry);
    if (ms === undefined) {
      ms = Date.parse(expiry);
      expiries.set(expiry, ms);
    }
    return ms;
  };
  // Paths are spelt only for an issue: most accounts have none.
  const accounts = document.accounts.map((account, a): AccountBook => {
    const previous = firstIndexOfId.get(account.id);
    if (previous !== undefined) {
      issues.push({
        path: `accounts[${a}].id`,
        message: `duplicate account id "${account.id}" (also accounts[${previous}])`,
      });
    } else firstIndexOfId.set(account.id, a);

    const collateral = Object.entries(account.collateral).map(([asset, amount]) => {
      if (!params.collateral.has(asset)) {
        issues.push({
          path: `accounts[${a}].collateral.${asset}`,
          message: `unknown collateral asset ${asset}: the risk parameters have no haircut tiers for it`,
        });
      }
      if (!quotes.has(asset))
        issues.push({
          path: `accounts[${a}].collateral.${asset}`,
          message: `no price for ${asset}: add prices.${asset}`,
        });
      return { asset, amount: plainDecimal(amount) };
    });

    const instruments = new Map<string, number>();
    const positions = account.positions.map((position, p): Position => {
      const seen = instruments.get(position.instrument);
      if (seen !== undefined) {
        issues.push({
          path: `${positionPath(a, p)}.instrument`,
          message: `duplicate instrument "${position.instrument}" (also positions[${seen}])`,
        });
      } else instruments.set(position.instrument, p);
      const quote = quotes.get(position.underlying);
      if (!quote)
        issues.push({
          path: `${positionPath(a, p)}.underlying`,
          message: `no price for ${position.underlying}: add prices.${position.underlying}`,
        });
      const expiryText = "expiry" in position ? position.expiry : null;
      const expiry = expiryText === null ? null : expiryMs(expiryText);
      if (expiry !== null && expiry <= asOfMs) {
        issues.push({
          path: `${positionPath(a, p)}.expiry`,
          message: `instrument expired at ${expiryText} (asOf ${document.asOf})`,
        });
      }
      const size = plainDecimal(position.size);
      if (position.type === "option") {
        if (position.markPrice === undefined && !vols.has(position.underlying)) {
          issues.push({
            path: `${positionPath(a, p)}.markPrice`,
            message: `required when volatility.${position.underlying} is not given (Black-76 needs a volatility)`,
          });
        }
        if (quote && !quote.mark.isPositive()) {
          issues.push({
            path: `${positionPath(a, p)}.underlying`,
            message: `the mark of ${position.underlying} must be positive to value an option`,
          });
        }
        return {
          kind: "option",
          instrument: position.instrument,
          underlying: position.underlying,
          optionType: position.optionType,
          strike: plainDecimal(position.strike),
          expiryMs: expiry as number,
          size,
          markPrice: position.markPrice === undefined ? null : plainDecimal(position.markPrice),
        };
      }
      if (!params.brackets.has(position.underlying)) {
        issues.push({
          path: `${positionPath(a, p)}.underlying`,
          message: `unknown underlying ${position.underlying}: the risk parameters have no brackets for it`,
        });
      }
      const accrued = position.funding === undefined ? ZERO : plainDecimal(position.funding);
      const linear: LinearPosition = {
        kind: "linear",
        type: position.type,
        instrument: position.instrument,
        underlying: position.underlying,
        size,
        entryPrice: plainDecimal(position.entryPrice),
        funding: accrued,
        expiryMs: expiry,
      };
      if (position.type === "perp" && position.fundingIndex !== undefined) {
        const cumulative = document.cumulativeFunding[account.venue]?.[position.underlying];
        if (cumulative === undefined) {
          issues.push({
            path: `${positionPath(a, p)}.fundingIndex`,
            message: `no cumulative funding to settle against: add cumulativeFunding.${account.venue}.${position.underlying}`,
          });
          return linear;
        }
        // DESIGN §3.10: F rises by rate × price when longs pay, so a long owes size × (F − index).
        const fundingIndex = plainDecimal(position.fundingIndex);
        const unsettled = size.times(plainDecimal(cumulative).minus(fundingIndex)).negated();
        linear.funding = accrued.plus(unsettled);
        linear.settlement = { accrued, fundingIndex, cumulative: plainDecimal(cumulative), unsettled };
      }
      return linear;
    });
    return { id: account.id, venue: account.venue, marginMode: account.marginMode, collateral, positions };
  });
  for (const asset of Object.keys(document.depth))
    if (!quotes.has(asset))
      issues.push({ path: `depth.${asset}`, message: `no price for ${asset}: add prices.${asset}` });
  if (issues.length > 0) throw new PortfolioInputError(issues);
  return { asOf: document.asOf, market, params, accounts, depth: depthBooks(document.depth) };
}
