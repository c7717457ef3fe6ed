import { createApi, hashKey } from "@backing/api";
import {
  Account,
  AccountPut,
  ApiKeyCreate,
  EndpointCreate,
  EndpointPatch,
  FundingEventBatch,
  PortfolioDocument,
  PriceEventBatch,
  RiskParamsDocument,
  SecretRotation,
  StoredWhatIf,
} from "@backing/contracts";
import { DEFAULT_RISK_PARAMS } from "@backing/core";
import { deliveryEnvironment } from "@backing/webhooks";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";
import {
  draw,
  malformed,
  RUNS,
  refusedBy,
  refusedEach,
  shown,
  tableDump,
  VALID_FUNDING,
  VALID_PRICE,
} from "../helpers/fuzz.ts";

// DESIGN §9 and issue 17: 10,000 generated malformed or hostile bodies per write route and per event
// type. Each is answered 4xx with a problem document (an event: refused as bad input), the server
// keeps answering, and the table is byte for byte what it was before. BACKING_FUZZ_RUNS overrides.
const ADMIN = "bk_admin_fuzz_key";
let fresh: Awaited<ReturnType<typeof freshStore>>;
let api: ReturnType<typeof createApi>;
let venueKey = "";
let endpointId = "";

beforeAll(async () => {
  fresh = await freshStore();
  api = createApi({
    store: fresh.store,
    now: Date.now,
    delivery: deliveryEnvironment({ allowLoopback: true }),
    reports: { write: async () => "", read: async () => null },
    adminKeyHashes: [hashKey(ADMIN)],
    rateLimit: { perMinute: 1e9, burst: 1e9 },
  });
  const key = await api.request("/v1/keys", {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ venue: "venue-f", label: "fuzz" }),
  });
  venueKey = ((await key.json()) as { key: string }).key;
  const endpoint = await api.request("/v1/endpoints", {
    method: "POST",
    headers: { authorization: `Bearer ${venueKey}`, "content-type": "application/json" },
    body: JSON.stringify({ url: "http://127.0.0.1:9/hook", types: ["margin.call"] }),
  });
  endpointId = ((await endpoint.json()) as { id: string }).id;
});
afterAll(async () => {
  await fresh?.drop();
});

const PERP = { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" };
const ACCOUNT = { collateral: { USDC: "1000" }, positions: [PERP] };
const ROUTES: {
  name: string;
  method: string;
  path: () => string;
  admin?: boolean;
  type?: string;
  valid: unknown;
  refuses: (body: unknown) => boolean;
}[] = [
  {
    name: "PUT /v1/accounts/{id}",
    method: "PUT",
    path: () => "/v1/accounts/fz-1",
    valid: ACCOUNT,
    refuses: refusedBy(AccountPut),
  },
  {
    name: "POST /v1/prices",
    method: "POST",
    path: () => "/v1/prices",
    admin: true,
    valid: [VALID_PRICE],
    refuses: refusedBy(PriceEventBatch),
  },
  {
    name: "POST /v1/funding",
    method: "POST",
    path: () => "/v1/funding",
    valid: VALID_FUNDING,
    refuses: refusedBy(FundingEventBatch),
  },
  {
    name: "POST /v1/evaluate",
    method: "POST",
    path: () => "/v1/evaluate",
    valid: {
      asOf: "2026-01-01T00:00:00Z",
      prices: { BTC: { index: "20000" } },
      accounts: [{ id: "a", venue: "venue-f", ...ACCOUNT }],
    },
    refuses: (b) => refusedBy(PortfolioDocument)(b) && refusedBy(StoredWhatIf)(b),
  },
  {
    name: "PUT /v1/params",
    method: "PUT",
    path: () => "/v1/params",
    admin: true,
    valid: DEFAULT_RISK_PARAMS,
    refuses: refusedBy(RiskParamsDocument),
  },
  {
    name: "POST /v1/keys",
    method: "POST",
    path: () => "/v1/keys",
    admin: true,
    valid: { venue: "v", label: "l" },
    refuses: refusedBy(ApiKeyCreate),
  },
  {
    name: "POST /v1/endpoints",
    method: "POST",
    path: () => "/v1/endpoints",
    valid: { url: "https://hooks.example.com/x", types: ["margin.call"] },
    refuses: refusedBy(EndpointCreate),
  },
  {
    name: "PATCH /v1/endpoints/{id}",
    method: "PATCH",
    path: () => `/v1/endpoints/${endpointId}`,
    valid: { enabled: false },
    refuses: refusedBy(EndpointPatch),
  },
  {
    name: "POST /v1/endpoints/{id}/rotate",
    method: "POST",
    path: () => `/v1/endpoints/${endpointId}/rotate`,
    valid: { overlapHours: 1 },
    refuses: (b) => refusedBy(SecretRotation)(b) && b !== null,
  },
];

describe("fuzzed API bodies: 4xx problem documents, the server keeps answering, nothing written", () => {
  it.each(ROUTES)(
    `$name: ${RUNS} malformed bodies`,
    async (route) => {
      const before = await tableDump(fresh);
      const failures = await refusedEach(draw(malformed(route.valid, route.refuses)), async (body) => {
        const response = await api.request(route.path(), {
          method: route.method,
          headers: {
            authorization: `Bearer ${route.admin ? ADMIN : venueKey}`,
            "content-type": "application/json",
          },
          body,
        });
        const type = response.headers.get("content-type") ?? "";
        const problem = (await response.json()) as { status?: number };
        if (response.status < 400 || response.status >= 500 || !type.includes("application/problem+json"))
          return `${response.status} ${type} for ${shown(body)}`;
        return problem.status === response.status
          ? null
          : `problem.status ${problem.status} for ${shown(body)}`;
      });
      expect(failures).toEqual([]);
      expect(await tableDump(fresh)).toBe(before);
      // Still serving: a valid read answers.
      const alive = await api.request("/v1/endpoints", { headers: { authorization: `Bearer ${venueKey}` } });
      expect(alive.status).toBe(200);
    },
    300_000,
  );

  it(`POST /v1/accounts/import: ${RUNS} imports of malformed lines import nothing and report every line`, async () => {
    const before = await tableDump(fresh);
    const line = malformed({ id: "fz-imp", venue: "venue-f", ...ACCOUNT }, refusedBy(Account)).filter(
      (text) => !text.includes("\n") && text.trim() !== "",
    );
    const failures = await refusedEach(
      draw(fc.array(line, { minLength: 1, maxLength: 3 })),
      async (lines) => {
        const response = await api.request("/v1/accounts/import", {
          method: "POST",
          headers: { authorization: `Bearer ${venueKey}`, "content-type": "application/x-ndjson" },
          body: lines.join("\n"),
        });
        const result = (await response.json()) as { imported?: number; failed?: number };
        return response.status === 200 && result.imported === 0 && result.failed === lines.length
          ? null
          : `${response.status} ${JSON.stringify(result).slice(0, 200)} for ${shown(lines.join("\n"))}`;
      },
    );
    expect(failures).toEqual([]);
    expect(await tableDump(fresh)).toBe(before);
  }, 300_000);
});
