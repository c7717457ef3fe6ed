import {
  Decimal,
  ExposureAggregator,
  evaluatePortfolio,
  exposureReport,
  type PreviousAccount,
  type PreviousReport,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accountArbitrary, documentOf, pricesArbitrary } from "../helpers/arbitraries.ts";
import { parse } from "../helpers/portfolio.ts";

const books = fc
  .tuple(pricesArbitrary, fc.array(accountArbitrary("x"), { minLength: 1, maxLength: 12 }))
  .map(([prices, accounts]) =>
    documentOf(
      prices,
      accounts.map((a, i) => ({ ...a, id: `a-${i}` })),
    ),
  );

const sum = (values: string[]) => values.reduce((s, v) => s.plus(v), new Decimal(0));
/** Output rounds each figure half-even at 8 dp: n figures differ from their exact sum by ≤ n × 5e-9. */
const near = (a: Decimal, b: Decimal, figures: number) =>
  a.minus(b).abs().lte(new Decimal("5e-9").times(figures));

describe("exposure report properties", () => {
  it("shares of at most 20 accounts sum to 1; 10,000 / N ≤ HHI ≤ 10,000", () => {
    fc.assert(
      fc.property(books, (document) => {
        const { report } = exposureReport(parse(document));
        for (const asset of Object.values(report.assets)) {
          for (const basis of [asset.concentration.gross, asset.concentration.net]) {
            if (basis.total === "0") continue;
            expect(basis.top20).toBe("1");
            const hhi = new Decimal(basis.hhi);
            expect(hhi.lte(10_000)).toBe(true);
            // N ≤ the accounts holding the asset (an account with x_i = 0 has no share).
            expect(hhi.gte(new Decimal(10_000).div(asset.accounts).minus("5e-9"))).toBe(true);
            expect(new Decimal(basis.top1).lte(basis.top5)).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it("heatmap mass equals the notional liquidated inside its range; with the rest it is the gross", () => {
    fc.assert(
      fc.property(books, (document) => {
        const { report } = exposureReport(parse(document));
        for (const asset of Object.values(report.assets)) {
          const bins = asset.heatmap;
          expect(
            near(sum(bins.map((b) => b.notional)), new Decimal(asset.liquidation.inHeatmap), bins.length + 1),
          ).toBe(true);
          const { inHeatmap, beyondHeatmap, noLiquidationPrice } = asset.liquidation;
          expect(near(sum([inHeatmap, beyondHeatmap, noLiquidationPrice]), new Decimal(asset.gross), 4)).toBe(
            true,
          );
        }
      }),
      { numRuns: 60 },
    );
  });

  it("CumLiq grows with the size of the move on each side", () => {
    fc.assert(
      fc.property(books, (document) => {
        const { report } = exposureReport(parse(document));
        for (const asset of Object.values(report.assets)) {
          const c = (move: string) => new Decimal(asset.cumLiq[move] as string);
          for (const side of ["-", ""]) {
            const moves = ["0.01", "0.02", "0.05", "0.1", "0.2"].map((m) => `${side}${m}`);
            for (let i = 1; i < moves.length; i++)
              expect(c(moves[i] as string).gte(c(moves[i - 1] as string))).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it("closest to liquidation quotes the liquidation price `backing evaluate` prints", () => {
    fc.assert(
      fc.property(books, (document) => {
        const portfolio = parse(document);
        const { report } = exposureReport(portfolio);
        const evaluated = new Map(evaluatePortfolio(portfolio).accounts.map((a) => [a.id, a]));
        for (const row of report.closestToLiquidation) {
          const account = evaluated.get(row.id);
          const book = portfolio.accounts.find((b) => b.id === row.id);
          const i = book?.positions.findIndex((p) => p.kind === "linear" && p.underlying === row.asset) ?? -1;
          expect(account?.positions[i]?.liquidationPrice).toBe(row.liquidationPrice);
          expect(row.status).toBe(account?.status);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("results do not depend on account order, option greeks included", () => {
    fc.assert(
      fc.property(books, (document) => {
        const forward = exposureReport(parse(document)).report;
        const reversed = exposureReport(
          parse({ ...document, accounts: [...document.accounts].reverse() }),
        ).report;
        expect(reversed).toEqual(forward);
      }),
      { numRuns: 60 },
    );
  });

  it("shards merged from their JSON partials report exactly what one aggregator reports", () => {
    const statuses = ["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"] as const;
    const sharded = fc.tuple(
      books,
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    );
    fc.assert(
      fc.property(sharded, ([document, shardCount, draws]) => {
        const portfolio = parse(document);
        // A previous report that saw some accounts in other states and with other equity.
        const previous: PreviousReport = {
          asOf: "2026-01-01T00:00:00Z",
          accounts: new Map(
            portfolio.accounts
              .filter((_, i) => (draws[i] ?? 0) % 3 !== 0)
              .map((b, i) => [
                b.id,
                {
                  venue: b.venue,
                  status: statuses[(draws[i] ?? 0) % 4] as PreviousAccount["status"],
                  equity: new Decimal(i * 1000 - 3000),
                },
              ]),
          ),
        };
        const whole = exposureReport(portfolio, previous).report;
        const shards = Array.from(
          { length: shardCount },
          () => new ExposureAggregator(portfolio.market, portfolio.params, previous),
        );
        for (const [i, book] of portfolio.accounts.entries())
          (shards[(draws[i] ?? 0) % shardCount] as ExposureAggregator).add([book]);
        const reducer = new ExposureAggregator(portfolio.market, portfolio.params, previous);
        for (const shard of [...shards].reverse()) reducer.merge(JSON.parse(JSON.stringify(shard.partial())));
        expect(reducer.report(portfolio.asOf)).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it("a venue's report fed the book's evaluations is the report of its accounts alone", () => {
    const withVenues = fc.tuple(books, fc.array(fc.nat(), { minLength: 12, maxLength: 12 }));
    fc.assert(
      fc.property(withVenues, ([document, draws]) => {
        const accounts = document.accounts.map((a, i) => ({
          ...(a as Record<string, unknown>),
          venue: `v-${(draws[i] ?? 0) % 3}`,
        }));
        const portfolio = parse({ ...document, accounts });
        const { market, params } = portfolio;
        // Funding rates on every priced asset, so the funding sums and funding-at-risk are fed too.
        const rates = new Map(
          ["v-0", "v-1", "v-2"].map((venue, v) => [
            venue,
            new Map([...market.quotes.keys()].map((asset) => [asset, new Decimal(`0.00${v + 1}`)])),
          ]),
        );
        const previous: PreviousReport = {
          asOf: "2026-01-01T00:00:00Z",
          accounts: new Map(
            portfolio.accounts.map((b, i) => [
              b.id,
              { venue: b.venue, status: i % 2 ? "MARGIN_CALL" : "HEALTHY", equity: new Decimal(i * 100) },
            ]),
          ),
        };
        const whole = new ExposureAggregator(market, params, previous, rates);
        const venues = new Map<string, ExposureAggregator>();
        // As the scheduled job does: one evaluation feeds the book's aggregator and its venue's.
        for (const book of portfolio.accounts) {
          const evaluation = whole.evaluate(book);
          let venue = venues.get(book.venue);
          if (!venue) {
            venue = new ExposureAggregator(market, params, previous, rates);
            venues.set(book.venue, venue);
          }
          venue.addEvaluated(book, evaluation);
          whole.addEvaluated(book, evaluation);
        }
        const alone = new ExposureAggregator(market, params, previous, rates);
        alone.add(portfolio.accounts);
        expect(whole.report(portfolio.asOf)).toEqual(alone.report(portfolio.asOf));
        for (const [name, venue] of venues) {
          const own = new ExposureAggregator(market, params, previous, rates);
          own.add(portfolio.accounts.filter((b) => b.venue === name));
          expect(venue.report(portfolio.asOf)).toEqual(own.report(portfolio.asOf));
        }
      }),
      { numRuns: 60 },
    );
  });
});
