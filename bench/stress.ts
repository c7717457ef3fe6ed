/**
 * Stress benchmark (npm run bench:stress): account-scenario revaluations per second for the full
 * shipped pack on a 20,000-account book with options (2 perps + 4 Black-76 options per account),
 * with and without cascades, on one core; against a plain float64 revaluation of the same book and
 * scenarios (linear PnL + Black-76 options, no margin) measured in the same run.
 */
import { ScenarioPack } from "@backing/contracts";
import {
  black76Price,
  DEFAULT_RISK_PARAMS,
  DEFAULT_SCENARIO_PACK,
  Decimal,
  parsePortfolio,
  runScenario,
  stressSettings,
  yearsToExpiry,
} from "@backing/core";
import { syntheticPortfolio } from "../test/helpers/synthetic-book.ts";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 20_000);
const portfolio = parsePortfolio(
  syntheticPortfolio({ accounts: ACCOUNTS, perps: 2, options: 4, seed: 11 }),
  DEFAULT_RISK_PARAMS,
);
const pack = ScenarioPack.parse(DEFAULT_SCENARIO_PACK);
const settings = stressSettings(portfolio.params);
const pairs = ACCOUNTS * pack.scenarios.length;
const perSecond = (ms: number) => Math.round(pairs / (ms / 1000));

function exact(cascade: boolean): number {
  const start = performance.now();
  for (const scenario of pack.scenarios) {
    runScenario(
      portfolio.accounts,
      portfolio.market,
      portfolio.params,
      { ...scenario, cascade },
      new Decimal(1),
      settings,
    );
  }
  return performance.now() - start;
}

/**
 * The same revaluation in float64: shocked linear PnL plus Black-76 options, summed per account,
 * on a book converted to floats once (sizes, entries, strikes, years to expiry, base vols), as a
 * float engine would hold it.
 */
const floatBook = portfolio.accounts.map((book) =>
  book.positions.map((p) => {
    const mark = portfolio.market.quotes.get(p.underlying)?.mark.toNumber() ?? 0;
    return p.kind === "linear"
      ? {
          option: false as const,
          underlying: p.underlying,
          mark,
          size: p.size.toNumber(),
          entry: p.entryPrice.toNumber(),
        }
      : {
          option: true as const,
          underlying: p.underlying,
          mark,
          type: p.optionType,
          size: p.size.toNumber(),
          strike: p.strike.toNumber(),
          years: yearsToExpiry(p, portfolio.market.asOfMs),
          vol: portfolio.market.vols.get(p.underlying) ?? 0.5,
        };
  }),
);
function float(): number {
  const start = performance.now();
  let sink = 0;
  for (const scenario of pack.scenarios) {
    const moves = new Map(Object.entries(scenario.shocks).map(([a, s]) => [a, Number(s.price ?? "0")]));
    const volShifts = new Map(Object.entries(scenario.shocks).map(([a, s]) => [a, Number(s.vol ?? "0")]));
    for (const positions of floatBook) {
      let equity = 0;
      for (const p of positions) {
        const shocked = p.mark * (1 + (moves.get(p.underlying) ?? 0));
        if (!p.option) equity += p.size * (shocked - p.entry);
        else
          equity +=
            p.size *
            black76Price(p.type, shocked, p.strike, p.years, p.vol + (volShifts.get(p.underlying) ?? 0));
      }
      sink += equity;
    }
  }
  if (Number.isNaN(sink)) console.log("");
  return performance.now() - start;
}

console.log(
  `${ACCOUNTS.toLocaleString("en-US")} accounts × ${pack.scenarios.length} scenarios = ${pairs.toLocaleString("en-US")} account-scenarios, one core`,
);
exact(false); // warm-up
const baseline = float();
const withoutCascade = exact(false);
const withCascade = exact(true);
console.log(
  `float64 revaluation (baseline)     ${(baseline / 1000).toFixed(2)} s  ${perSecond(baseline).toLocaleString("en-US")}/s`,
);
console.log(
  `exact, no cascade                  ${(withoutCascade / 1000).toFixed(2)} s  ${perSecond(withoutCascade).toLocaleString("en-US")}/s`,
);
console.log(
  `exact, with cascades               ${(withCascade / 1000).toFixed(2)} s  ${perSecond(withCascade).toLocaleString("en-US")}/s`,
);
console.log(
  `\nexact (no cascade) / float64: ${(baseline / withoutCascade).toFixed(3)}; vs DESIGN §8 target of 200,000/s: ${(perSecond(withoutCascade) / 200000).toFixed(2)}×`,
);
console.log(`with cascades / without: ${(withoutCascade / withCascade).toFixed(3)} (target ≥ 0.5)`);
