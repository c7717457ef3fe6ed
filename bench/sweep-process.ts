/**
 * One sweep alone in its own process, spawned by bench/tick.ts against its DynamoDB Local: the
 * sweep's own peak memory, without the bench's copy of the book. Prints one JSON line.
 * Arguments: endpoint, table, clock (ms), volatility (JSON).
 */
import { connect, dynamoStore } from "@backing/dynamo";
import { sweepAccounts } from "@backing/engine";

const [endpoint = "", table = "", clock = "0", volatility = "{}"] = process.argv.slice(2);
const { documents } = connect({ endpoint });
const store = dynamoStore(documents, table);
const baseline = process.memoryUsage().rss;
const start = performance.now();
const swept = await sweepAccounts(
  { store, now: () => Number(clock), volatility: JSON.parse(volatility) },
  { pageSize: 1_000 },
);
console.log(
  JSON.stringify({
    ms: performance.now() - start,
    accounts: swept.accounts,
    baselineMb: Math.round(baseline / 2 ** 20),
    peakMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
