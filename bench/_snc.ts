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
  syntheticPortfolio({ accounts: 20000, perps: 2, options: 4, seed: 11 }),
  DEFAULT_RISK_PARAMS,
);
const pack = ScenarioPack.parse(DEFAULT_SCENARIO_PACK);
const settings = stressSettings(portfolio.params);
const cascade = process.env.CASCADE === "1";
const rates: number[] = [];
const cpus: number[] = [];
for (let i = 0; i < 6; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  for (const scenario of pack.scenarios)
    runScenario(
      portfolio.accounts,
      portfolio.market,
      portfolio.params,
      { ...scenario, cascade },
      new Decimal(1),
      settings,
    );
  const ms = performance.now() - t;
  const cu = process.cpuUsage(c);
  if (i > 0) {
    rates.push(Math.round(240000 / (ms / 1000)));
    cpus.push(Math.round(240000 / ((cu.user + cu.system) / 1e6)));
  }
}
rates.sort((a, b) => a - b);
cpus.sort((a, b) => a - b);
console.log(
  process.cwd().padEnd(12),
  "wall median",
  rates[2],
  "best",
  rates[4],
  " cpu median",
  cpus[2],
  "best",
  cpus[4],
);
