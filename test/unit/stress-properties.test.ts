import { type Scenario, ScenarioPack } from "@backing/contracts";
import {
  type CascadeState,
  Decimal,
  runScenario,
  ScenarioCascade,
  ScenarioShard,
  type ShardState,
  type StressAggregatePartial,
  StressAggregator,
  stressReport,
  stressSettings,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accountArbitrary, decimalString, documentOf, pricesArbitrary } from "../helpers/arbitraries.ts";
import { parse } from "../helpers/portfolio.ts";

const IMPACT = {
  BTC: { Y: "1", dailyVol: "0.04", dailyVolume: "20000000" },
  ETH: { Y: "1", dailyVol: "0.05", dailyVolume: "10000000" },
};

function scenarioOf(btc: string, eth: string, cascade: boolean): Scenario {
  return ScenarioPack.parse({
    id: "p",
    version: "1",
    scenarios: [
      {
        id: "S",
        name: "s",
        type: "hypothetical",
        horizon: "P1D",
        cascade,
        shocks: { BTC: { price: btc, vol: "0.3" }, ETH: { price: eth } },
        pegs: { USDT: "0.97" },
      },
    ],
  }).scenarios[0] as Scenario;
}

const withImpact = (document: ReturnType<typeof documentOf>) => ({
  ...document,
  params: { stress: { insuranceFund: "0", impact: IMPACT, maxCascadeRounds: 20 } },
});

/** Accounts with 2–30× leverage on BTC and ETH, long and short: a shock fails some of them each round. */
function syntheticAccounts(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const leverage = 2 + (i % 29);
    const side = i % 3 === 0 ? -1 : 1;
    const usdc = 10_000 + ((i * 7919) % 50_000);
    return {
      id: `s-${i}`,
      venue: "v",
      collateral: { USDC: String(usdc), ...(i % 4 === 0 ? { BTC: "0.1" } : {}) },
      positions: [
        {
          instrument: "BTC-PERP",
          type: "perp",
          underlying: "BTC",
          size: ((side * usdc * leverage * 0.7) / 100_000).toFixed(4),
          entryPrice: "100000",
        },
        {
          instrument: "ETH-PERP",
          type: "perp",
          underlying: "ETH",
          size: ((side * usdc * leverage * 0.3) / 3000).toFixed(3),
          entryPrice: "3000",
        },
      ],
    };
  });
}

const totalBadDebt = (run: ReturnType<typeof runScenario>) =>
  run.accounts.reduce((sum, a) => (a.equity < 0n ? sum - a.equity : sum), 0n);

describe("stress properties", () => {
  // Linear long books without loans: a long option gains from the vol-up shift and a loan shrinks
  // as its asset falls, so for those a larger k is not uniformly more severe (fast-check found both).
  it("a more severe scenario (larger k) never reduces total bad debt of a long linear book", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.array(accountArbitrary("x", { longOnly: true, withOptions: false }), {
          minLength: 4,
          maxLength: 4,
        }),
        decimalString(-0.5, -0.01, 2),
        fc.double({ min: 0.1, max: 2, noNaN: true }),
        fc.double({ min: 1.01, max: 2.5, noNaN: true }),
        (prices, ids, accounts, move, k1, ratio) => {
          // Loans are short exposure (a falling asset shrinks them): keep only the assets held.
          const held = (collateral: Record<string, string>) =>
            Object.fromEntries(Object.entries(collateral).filter(([, amount]) => !amount.startsWith("-")));
          const list = ids.map((_, i) => ({
            ...accounts[i],
            collateral: held(accounts[i]?.collateral ?? {}),
            id: `a-${i}`,
          }));
          const book = parse(documentOf(prices, list));
          const scenario = scenarioOf(move, move, false);
          const settings = stressSettings(book.params);
          const low = runScenario(
            book.accounts,
            book.market,
            book.params,
            scenario,
            new Decimal(k1.toFixed(4)),
            settings,
          );
          const high = runScenario(
            book.accounts,
            book.market,
            book.params,
            scenario,
            new Decimal((k1 * ratio).toFixed(4)),
            settings,
          );
          expect(totalBadDebt(high) >= totalBadDebt(low)).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });

  it("more depth never makes a cascade worse: bad debt of a long book never rises with depthMultiplier", () => {
    // A book per underlying around its price: 1–6 levels a side, gaps of 0.1–3 %, 0.05–20 units each.
    const side = fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), decimalString(0.05, 20, 2)), {
      minLength: 1,
      maxLength: 6,
    });
    const bookAt = (price: string, bids: [number, string][], asks: [number, string][]) => {
      const levels = (gaps: [number, string][], sign: number) => {
        let offset = 0;
        return gaps.map(([gap, size]): [string, string] => {
          offset += gap;
          return [new Decimal(price).times(1 + (sign * offset) / 10_000).toFixed(6), size];
        });
      };
      return { timestamp: "2026-01-15T00:00:00Z", bids: levels(bids, -1), asks: levels(asks, 1) };
    };
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(
          fc.tuple(
            accountArbitrary("x", { longOnly: true, withOptions: false }),
            decimalString(0, 200_000, 2),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        fc.tuple(side, side, side, side, side, side),
        decimalString(-0.5, -0.01, 2),
        fc.double({ min: 0.05, max: 2, noNaN: true }),
        fc.double({ min: 1.01, max: 4, noNaN: true }),
        (prices, accounts, [btcBids, btcAsks, ethBids, ethAsks, solBids, solAsks], move, m1, ratio) => {
          // USDC only, and little of it, so that shocks and cascades make bad debt.
          const list = accounts.map(([a, usdc], i) => ({ ...a, collateral: { USDC: usdc }, id: `a-${i}` }));
          const book = parse({
            ...documentOf(prices, list),
            params: { stress: { insuranceFund: "0", impact: {}, maxCascadeRounds: 20 } },
            depth: {
              BTC: bookAt(prices.BTC, btcBids, btcAsks),
              ETH: bookAt(prices.ETH, ethBids, ethAsks),
              SOL: bookAt(prices.SOL, solBids, solAsks),
            },
          });
          const settings = stressSettings(book.params, book.depth);
          const badDebtAt = (multiplier: number) => {
            const shocked = scenarioOf(move, move, true);
            const scenario = {
              ...shocked,
              shocks: { ...shocked.shocks, SOL: { price: move } },
              depthMultiplier: multiplier.toFixed(4),
            };
            return totalBadDebt(
              runScenario(book.accounts, book.market, book.params, scenario, new Decimal(1), settings),
            );
          };
          expect(badDebtAt(m1 * ratio) <= badDebtAt(m1)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the cascade's float screen bounds every account's exact equity − MM and equity", () => {
    // Accounts moved to a hair's breadth of their MM at the shocked prices: USDC (haircut 0, index 1)
    // is set so that exact equity − MM = delta (to 1e-18), from −10 to +10 USD down to 1e-6.
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(
          fc.tuple(accountArbitrary("x"), fc.integer({ min: -7, max: 1 }), fc.integer({ min: -9, max: 9 })),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        decimalString(-0.5, 0.3, 2),
        fc.boolean(),
        (prices, drawn, move, withFunding) => {
          const shocked = scenarioOf(move, move, true);
          const scenario = withFunding ? { ...shocked, funding: { BTC: "0.003", ETH: "-0.002" } } : shocked;
          const cascadeOf = (accounts: unknown[]) => {
            const book = parse(withImpact(documentOf(prices, accounts)));
            const cascade = new ScenarioCascade(
              book.market,
              book.params,
              scenario,
              new Decimal(1),
              stressSettings(book.params),
            );
            return { book, cascade };
          };
          const named = drawn.map(([a], i) => ({ ...a, id: `a-${i}` }));
          const first = cascadeOf(named);
          const adjusted = named.map((a, i) => {
            const outcome = first.cascade.evaluate(first.book.accounts[i] as never);
            const [, power, digit] = drawn[i] as [unknown, number, number];
            const delta = new Decimal(digit).times(new Decimal(10).pow(power));
            const usdc = new Decimal(a.collateral.USDC ?? "0")
              .plus(new Decimal((outcome.maintenance - outcome.equity).toString()).div("1e54"))
              .plus(delta)
              .toDecimalPlaces(18);
            return { ...a, collateral: { ...a.collateral, USDC: usdc.toFixed() } };
          });
          const second = cascadeOf(adjusted);
          for (const book of second.book.accounts) {
            const screen = second.cascade.screen(book);
            if (screen === null) continue;
            const { distanceLow, distanceHigh, equityLow } = screen;
            const outcome = second.cascade.evaluate(book);
            const distance = Number(outcome.equity - outcome.maintenance) / 1e54;
            expect(distance).toBeGreaterThanOrEqual(distanceLow);
            expect(distance).toBeLessThanOrEqual(distanceHigh);
            expect(Number(outcome.equity) / 1e54).toBeGreaterThanOrEqual(equityLow);
            // What the cascade acts on: certainly above MM, or certainly below it.
            if (distanceLow > 0) expect(outcome.status).not.toBe("LIQUIDATION");
            if (distanceHigh < 0) expect(outcome.status).toBe("LIQUIDATION");
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a cascade of long liquidations never raises a price above its shocked level", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(accountArbitrary("x", { longOnly: true, withOptions: false }), {
          minLength: 1,
          maxLength: 6,
        }),
        decimalString(-0.6, -0.05, 2),
        (prices, accounts, move) => {
          const book = parse(
            withImpact(
              documentOf(
                prices,
                accounts.map((a, i) => ({ ...a, id: `a-${i}` })),
              ),
            ),
          );
          const run = runScenario(
            book.accounts,
            book.market,
            book.params,
            scenarioOf(move, move, true),
            new Decimal(1),
            stressSettings(book.params),
          );
          for (const asset of ["BTC", "ETH"]) {
            const before = book.market.quotes.get(asset)?.mark.times(new Decimal(move).plus(1));
            expect(run.finalPrices.get(asset)?.lte(before ?? 0)).toBe(true);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("results do not depend on account order", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(accountArbitrary("x"), { minLength: 2, maxLength: 5 }),
        decimalString(-0.5, 0.3, 2),
        (prices, accounts, move) => {
          const named = accounts.map((a, i) => ({ ...a, id: `a-${i}` }));
          const pack = { id: "p", version: "1", scenarios: [scenarioOf(move, move, true)] };
          const report = (list: typeof named) => {
            const scenario = stressReport(parse(withImpact(documentOf(prices, list))), pack, {
              reverse: false,
            }).scenarios[0];
            return {
              ...scenario,
              accounts: [...(scenario?.accounts ?? [])].sort((a, b) => a.id.localeCompare(b.id)),
            };
          };
          expect(report([...named].reverse())).toEqual(report(named));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a cascade round that skips accounts too far from their MM to fail finds the same failures as one that evaluates all", () => {
    // A shard restored from JSON each pass remembers no distances, so it evaluates every account in
    // every round; the in-memory run skips those whose distance exceeds the bound on the round's move.
    const document = withImpact(
      documentOf({ BTC: "100000", ETH: "3000", SOL: "150", stETH: "2900" }, syntheticAccounts(400)),
    );
    const portfolio = parse(document);
    const settings = stressSettings(portfolio.params);
    for (const move of ["-0.12", "-0.2", "0.15"]) {
      const scenario = scenarioOf(move, move, true);
      const inMemory = runScenario(
        portfolio.accounts,
        portfolio.market,
        portfolio.params,
        scenario,
        new Decimal(1),
        settings,
      );
      let cascadeState: CascadeState | undefined;
      let shardState: ShardState | undefined;
      let outcomes: ReturnType<ScenarioShard["pass"]> = [];
      for (;;) {
        const cascade = new ScenarioCascade(
          portfolio.market,
          portfolio.params,
          scenario,
          new Decimal(1),
          settings,
          cascadeState,
        );
        const final = cascade.final;
        const shard = new ScenarioShard(cascade, shardState);
        outcomes = shard.pass(portfolio.accounts);
        const report = shard.endPass();
        shardState = JSON.parse(JSON.stringify(shard.state()));
        cascade.endPass([report]);
        cascadeState = JSON.parse(JSON.stringify(cascade.state()));
        if (final) break;
      }
      expect(inMemory.rounds, move).toBeGreaterThan(1);
      expect(cascadeState?.rounds).toBe(inMemory.rounds);
      expect(outcomes).toEqual(inMemory.accounts);
    }
  });

  it("a cascade split over shards that meet once per round (state passed as JSON) reports what one process reports", () => {
    const viaJson = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(accountArbitrary("x"), { minLength: 2, maxLength: 10 }),
        fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }),
        decimalString(-0.6, 0.3, 2),
        (prices, accounts, draws, shardCount, move) => {
          const named = accounts.map((a, i) => ({ ...a, id: `a-${i}` }));
          const portfolio = parse(withImpact(documentOf(prices, named)));
          const scenario = scenarioOf(move, move, true);
          const settings = stressSettings(portfolio.params);
          const whole = stressReport(
            portfolio,
            { id: "p", version: "1", scenarios: [scenario] },
            { reverse: false },
          ).scenarios[0];

          const shards = Array.from({ length: shardCount }, (_, s) =>
            portfolio.accounts.filter((_, i) => (draws[i] ?? 0) % shardCount === s),
          );
          // Every shard and the reducer rebuild their objects from JSON each pass, as separate workers would.
          const cascadeAt = (state?: CascadeState) =>
            new ScenarioCascade(
              portfolio.market,
              portfolio.params,
              scenario,
              new Decimal(1),
              settings,
              state,
            );
          let cascadeState = viaJson(cascadeAt().state());
          let shardStates: (ShardState | undefined)[] = shards.map(() => undefined);
          const partials: StressAggregatePartial[] = [];
          const rows: unknown[] = [];
          for (;;) {
            const final = cascadeState.final;
            const reports = shards.map((books, s) => {
              const cascade = cascadeAt(viaJson(cascadeState));
              const shard = new ScenarioShard(cascade, viaJson(shardStates[s]));
              const outcomes = shard.pass(books);
              if (final) {
                const aggregator = new StressAggregator();
                rows.push(...outcomes.map((o) => aggregator.add(o)));
                partials.push(viaJson(aggregator.partial()));
              }
              const report = viaJson(shard.endPass());
              shardStates[s] = viaJson(shard.state());
              return report;
            });
            const reducer = cascadeAt(viaJson(cascadeState));
            reducer.endPass(reports);
            cascadeState = viaJson(reducer.state());
            if (final) break;
          }
          const merged = new StressAggregator();
          for (const partial of partials.reverse()) merged.merge(partial);
          const { accountsByStatus, ...rest } = merged.aggregates(settings, cascadeAt(cascadeState));
          const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
          expect({ accountsByStatus, ...rest, accounts: [...rows].sort(byId as never) }).toEqual({
            ...whole,
            id: undefined,
            reverseSeverity: undefined,
            accounts: [...(whole?.accounts ?? [])].sort(byId),
          });
          shardStates = [];
        },
      ),
      { numRuns: 80 },
    );
  });
});
