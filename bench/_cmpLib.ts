import { DEFAULT_RISK_PARAMS, Decimal, ExposureAggregator, parsePortfolio, seededRandom, evaluatePortfolioAccounts, runScenario, stressSettings, DEFAULT_SCENARIO_PACK } from "@backing/core";
import { ScenarioPack } from "@backing/contracts";
import fc from "fast-check";
import { accountArbitrary, documentOf, pricesArbitrary } from "../test/helpers/arbitraries.ts";
import { syntheticPortfolio } from "../test/helpers/synthetic-book.ts";
export function run(): number { return 0; }
export function outputs(): string[] {
  const docs: unknown[] = [];
  for (let seed = 1; seed <= 6; seed++) docs.push(syntheticPortfolio({ accounts: 400, perps: 3, options: 2, seed }));
  const books = fc.tuple(pricesArbitrary, fc.array(accountArbitrary("x", { withOptions: true }), { minLength: 1, maxLength: 12 })).map(([p, a]) => documentOf(p, a.map((x, i) => ({ ...(x as object), id: `a-${i}`, venue: `v-${i % 3}` }))));
  docs.push(...fc.sample(books, { numRuns: 150, seed: 42 }));
  const out: string[] = [];
  const pack = ScenarioPack.parse(DEFAULT_SCENARIO_PACK);
  for (const doc of docs) {
    const p = parsePortfolio(doc, DEFAULT_RISK_PARAMS);
    const rates = new Map(["v-0", "v-1", "v-2", "venue-0", "venue-1"].map((v, i) => [v, new Map([...p.market.quotes.keys()].map((a) => [a, new Decimal(`0.000${i + 1}`)]))]));
    const agg = new ExposureAggregator(p.market, p.params, null, rates);
    const rows = agg.add(p.accounts);
    out.push(JSON.stringify({ rows, report: agg.report(p.asOf), partial: agg.partial() }));
    out.push(JSON.stringify([...evaluatePortfolioAccounts(p)]));
    const settings = stressSettings(p.params);
    for (const scenario of pack.scenarios.slice(0, 4)) for (const cascade of [false, true]) {
      const r = runScenario(p.accounts, p.market, p.params, { ...scenario, cascade }, new Decimal(1), settings);
      out.push(JSON.stringify(r, (_, v) => typeof v === "bigint" ? v.toString() : v instanceof Map ? [...v] : v));
    }
  }
  return out;
}
