import { DEFAULT_RISK_PARAMS, parsePortfolio, seededRandom } from "@backing/core";
import { syntheticAccount, syntheticPortfolio } from "../test/helpers/synthetic-book.ts";

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 20000);
const SHAPE = { accounts: ACCOUNTS, perps: 3, options: 1 };
const random = seededRandom(7);
const header = syntheticPortfolio({ ...SHAPE, accounts: 0 });
const raws: unknown[] = [];
for (let s = 0; s < ACCOUNTS; s += 1000)
  raws.push({
    ...header,
    accounts: Array.from({ length: 1000 }, (_, i) => syntheticAccount(s + i, random, SHAPE)),
  });
export function run(): number {
  const t = performance.now();
  let n = 0;
  for (const raw of raws) n += parsePortfolio(raw, DEFAULT_RISK_PARAMS).accounts.length;
  if (n < 0) console.log("");
  return performance.now() - t;
}
