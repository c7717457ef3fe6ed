/**
 * HTTP API benchmark (npm run bench:api): `backing serve`'s system on DynamoDB Local, over real
 * loopback HTTP. Bulk import of 10,000 accounts as NDJSON against the store's own putAccounts of
 * the same accounts, and GET /v1/accounts/{id} (16 in flight) against the store's getAccounts of
 * the same ids, each in the same run: the ratio is what HTTP, auth, validation and venue checks cost.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, dynamoStore } from "@backing/dynamo";
import { demoBook, startSystem } from "@backing/local";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const GETS = 5_000;
const dataDir = await mkdtemp(join(tmpdir(), "bench-api-"));
// A rate limit far above what one benchmark sends: the limiter's own cost is still paid.
const system = await startSystem({
  dataDir,
  port: 0,
  host: "127.0.0.1",
  rateLimitPerMinute: 10_000_000,
  log: () => {},
});
try {
  const admin = (await readFile(join(dataDir, "admin-key"), "utf8")).trim();
  const request = (path: string, key: string, init: RequestInit = {}) =>
    fetch(`${system.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) },
    });
  const created = await request("/v1/keys", admin, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ venue: "venue-a", label: "bench" }),
  });
  const key = ((await created.json()) as { key: string }).key;
  const prices = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
  const book = demoBook({
    accounts: ACCOUNTS,
    prices,
    futureExpiry: "2027-12-30T08:00:00Z",
    optionExpiry: "2027-11-25T08:00:00Z",
  }).map((a) => ({ ...a, venue: "venue-a" }));
  const direct = dynamoStore(connect({ endpoint: system.dynamoEndpoint }).documents, system.tableName);

  // Baseline: the store writes a copy of the book under other ids.
  let start = performance.now();
  for (let i = 0; i < book.length; i += 2_000)
    await direct.putAccounts(book.slice(i, i + 2_000).map((a) => ({ ...a, id: `raw-${a.id}` })));
  const rawPut = performance.now() - start;

  start = performance.now();
  for (let i = 0; i < book.length; i += 2_000) {
    const body = book
      .slice(i, i + 2_000)
      .map((a) => JSON.stringify(a))
      .join("\n");
    const response = await request("/v1/accounts/import", key, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    });
    const result = (await response.json()) as { imported: number; failed: number };
    if (result.failed > 0 || result.imported !== Math.min(2_000, book.length - i))
      throw new Error(JSON.stringify(result));
  }
  const imported = performance.now() - start;

  const ids = Array.from({ length: GETS }, (_, i) => book[(i * 7919) % book.length]?.id as string);
  start = performance.now();
  for (let i = 0; i < ids.length; i += 100) await direct.getAccounts(ids.slice(i, i + 100));
  const rawGetBatched = performance.now() - start;
  start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) await direct.getAccounts([ids[next++] as string]);
    }),
  );
  const rawGet = performance.now() - start;
  const latencies: number[] = [];
  start = performance.now();
  next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const t = performance.now();
        const response = await request(`/v1/accounts/${id}`, key);
        if (response.status !== 200) throw new Error(`GET ${id}: ${response.status}`);
        await response.arrayBuffer();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const httpGet = performance.now() - start;
  latencies.sort((a, b) => a - b);
  const p = (q: number) =>
    (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1);

  const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString("en-US");
  console.log(
    `${ACCOUNTS.toLocaleString("en-US")} accounts, ${GETS.toLocaleString("en-US")} reads, DynamoDB Local, loopback HTTP`,
  );
  console.log(`store putAccounts (baseline)     ${perSecond(ACCOUNTS, rawPut)} accounts/s`);
  console.log(
    `POST /v1/accounts/import          ${perSecond(ACCOUNTS, imported)} accounts/s   ratio to baseline ${(rawPut / imported).toFixed(2)}`,
  );
  console.log(
    `store getAccounts, 1 id, 16 ways  ${perSecond(GETS, rawGet)} reads/s (baseline; batched by 100: ${perSecond(GETS, rawGetBatched)}/s)`,
  );
  console.log(
    `GET /v1/accounts/{id}, 16 ways    ${perSecond(GETS, httpGet)} requests/s   ratio to baseline ${(rawGet / httpGet).toFixed(2)}; p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`,
  );
} finally {
  await system.stop();
  await rm(dataDir, { recursive: true, force: true });
}
