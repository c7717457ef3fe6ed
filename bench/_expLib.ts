import { DEFAULT_RISK_PARAMS, ExposureAggregator, parsePortfolio, seededRandom } from "@backing/core";
import { accountsCsvRows, exposureFiles } from "@backing/reports/exposure";
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
export function run(part = process.env.PART ?? "all"): number {
  const t = performance.now();
  let aggregator: ExposureAggregator | undefined;
  let asOf = "";
  let bytes = 0;
  for (const raw of raws) {
    const page = parsePortfolio(raw, DEFAULT_RISK_PARAMS);
    if (part === "parse") continue;
    aggregator ??= new ExposureAggregator(page.market, page.params);
    asOf = page.asOf;
    bytes += accountsCsvRows(aggregator.add(page.accounts)).length;
  }
  if (aggregator)
    bytes += Object.values(exposureFiles(aggregator.report(asOf))).reduce((n, f) => n + f.length, 0);
  if (bytes < 0) console.log("");
  return performance.now() - t;
}
