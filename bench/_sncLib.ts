import { ScenarioPack } from "@backing/contracts";
import {
  DEFAULT_RISK_PARAMS,
  DEFAULT_SCENARIO_PACK,
  Decimal,
  parsePortfolio,
  runScenario,
  stressSettings,
} from "@backing/core";
import { syntheticPortfolio } from "../test/helpers/synthetic-book.ts";

const portfolio = parsePortfolio(
  syntheticPortfolio({ accounts: Number(process.env.ACCOUNTS ?? 20000), perps: 2, options: 4, seed: 11 }),
  DEFAULT_RISK_PARAMS,
);
const pack = ScenarioPack.parse(DEFAULT_SCENARIO_PACK);
const settings = stressSettings(portfolio.params);
export function run(cascade: boolean): number {
  const t = performance.now();
  for (const scenario of pack.scenarios)
    runScenario(
      portfolio.accounts,
      portfolio.market,
      portfolio.params,
      { ...scenario, cascade },
      new Decimal(1),
      settings,
    );
  return performance.now() - t;
}
