import { PortfolioDocument } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, parsePortfolio, seededRandom } from "@backing/core";
import { syntheticAccount, syntheticPortfolio } from "../test/helpers/synthetic-book.ts";

const SHAPE = { accounts: 20000, perps: 3, options: 1 };
const random = seededRandom(7);
const header = syntheticPortfolio({ ...SHAPE, accounts: 0 });
const pages = [] as unknown[];
for (let s = 0; s < 20000; s += 1000)
  pages.push({
    ...header,
    accounts: Array.from({ length: 1000 }, (_, i) => syntheticAccount(s + i, random, SHAPE)),
  });
const mode = process.argv[2] ?? "all";
for (let pass = 0; pass < 5; pass++) {
  let t = performance.now();
  for (const p of pages) PortfolioDocument.safeParse(p);
  const zod = performance.now() - t;
  t = performance.now();
  for (const p of pages) parsePortfolio(p, DEFAULT_RISK_PARAMS);
  const all = performance.now() - t;
  console.log(`zod ${(zod / 20).toFixed(1)} µs/acct, parsePortfolio ${(all / 20).toFixed(1)} µs/acct`);
}
