import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApi, hashKey, openApiDocument } from "@backing/api";
import { runExposureJob } from "@backing/engine";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { deliveryEnvironment } from "@backing/webhooks";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.ts";
import { freshStore } from "../helpers/dynamo.ts";
import { startReceiver } from "../helpers/receiver.ts";

// The HTTP API in-process (Hono's app.request) over DynamoDB Local: auth, venue isolation,
// validation, bulk import, what-if, rate limiting and the OpenAPI document.
const ADMIN = "bk_admin_test_key";
let fresh: Awaited<ReturnType<typeof freshStore>>;
let api: ReturnType<typeof createApi>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const keys: Record<string, string> = {};
let reportDir: string;

type Init = { method?: string; body?: unknown; key?: string | null; type?: string };
async function call(path: string, init: Init = {}) {
  const headers: Record<string, string> = {};
  if (init.key !== null) headers.authorization = `Bearer ${init.key ?? ADMIN}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    headers["content-type"] = init.type ?? "application/json";
  }
  const response = await api.request(path, {
    method: init.method ?? "GET",
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    headers: response.headers,
    // biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary JSON replies
    json: json as Record<string, any>,
    text,
  };
}

/** POST /v1/accounts/import: NDJSON lines with this key. */
const importNdjson = (key: string | undefined, body: string) =>
  call("/v1/accounts/import", { method: "POST", key, body, type: "application/x-ndjson" });

const accountBody = (usdc = "1000") => ({
  collateral: { USDC: usdc },
  positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" }],
});

beforeAll(async () => {
  fresh = await freshStore();
  reportDir = await mkdtemp(join(tmpdir(), "backing-api-"));
  receiver = await startReceiver({ secrets: () => [] });
  api = createApi({
    store: fresh.store,
    now: Date.now,
    delivery: deliveryEnvironment({ allowLoopback: true }),
    reports: folderReportStore(reportDir),
    adminKeyHashes: [hashKey(ADMIN)],
  });
  for (const venue of ["venue-a", "venue-b"]) {
    const created = await call("/v1/keys", { method: "POST", body: { venue, label: `${venue} risk desk` } });
    expect(created.status).toBe(201);
    keys[venue] = created.json.key;
  }
});
afterAll(async () => {
  await receiver?.close();
  await fresh?.drop();
});

describe("HTTP API: authentication", () => {
  it("answers 401 problem+json on every route without a key or with an unknown one", async () => {
    const paths = Object.entries(openApiDocument().paths);
    expect(paths.length).toBeGreaterThanOrEqual(15);
    for (const [template, operations] of paths) {
      const path = template.replace("{kind}", "exposure").replace(/\{\w+\}/g, "x-1");
      for (const method of Object.keys(operations)) {
        for (const key of [null, "bk_not_a_key"]) {
          const response = await call(path, {
            method: method.toUpperCase(),
            key,
            ...(method === "get" || method === "delete" ? {} : { body: {} }),
          });
          expect(response.status, `${method} ${path} ${key}`).toBe(401);
          expect(response.type).toContain("application/problem+json");
          expect(response.json).toMatchObject({ status: 401, title: "Unauthorized", instance: path });
        }
      }
    }
  });

  it("stores keys hashed: the table holds the SHA-256, never the key", async () => {
    const stored = await fresh.store.getApiKey(hashKey(keys["venue-a"] as string));
    expect(stored).toMatchObject({ venue: "venue-a", label: "venue-a risk desk" });
    expect(JSON.stringify(stored)).not.toContain(keys["venue-a"]);
  });

  it("keeps operator routes to admin keys", async () => {
    const key = keys["venue-a"];
    expect((await call("/v1/prices", { method: "POST", key, body: [] })).status).toBe(403);
    expect(
      (await call("/v1/keys", { method: "POST", key, body: { venue: "venue-b", label: "x" } })).status,
    ).toBe(403);
    expect((await call("/v1/params", { method: "PUT", key, body: {} })).status).toBe(403);
    expect((await call("/v1/reports/stress/latest", { key })).status).toBe(403);
  });
});

describe("HTTP API: venue isolation", () => {
  it("venue B cannot read, list or change venue A's accounts, endpoints or notifications, even by id", async () => {
    const a = keys["venue-a"];
    const b = keys["venue-b"];
    expect((await call("/v1/accounts/iso-1", { method: "PUT", key: a, body: accountBody() })).status).toBe(
      201,
    );
    const endpoint = await call("/v1/endpoints", {
      method: "POST",
      key: a,
      body: { url: receiver.url("/a"), types: ["margin.call"] },
    });
    expect(endpoint.status).toBe(201);
    expect(endpoint.json.secret).toMatch(/^whsec_/);
    // A margin call on iso-1: BTC 19,100 (equity 100 < IM 152.8).
    const now = new Date().toISOString();
    const tick = await call("/v1/prices", {
      method: "POST",
      body: [
        { eventId: "BTC@iso", asset: "BTC", index: "19100", timestamp: now, source: "t" },
        { eventId: "USDC@iso", asset: "USDC", index: "1", timestamp: now, source: "t" },
      ],
    });
    expect(tick.status).toBe(202);
    const listA = await call("/v1/notifications", { key: a });
    const notificationId = listA.json.notifications[0].id as string;
    expect(listA.json.notifications.map((n: { type: string }) => n.type)).toEqual(["margin.call"]);

    const id = endpoint.json.id as string;
    const denied: [string, string, unknown?][] = [
      ["GET", "/v1/accounts/iso-1"],
      ["DELETE", "/v1/accounts/iso-1"],
      ["GET", "/v1/accounts/iso-1/risk"],
      ["GET", `/v1/endpoints/${id}`],
      ["PATCH", `/v1/endpoints/${id}`, { enabled: false }],
      ["DELETE", `/v1/endpoints/${id}`],
      ["POST", `/v1/endpoints/${id}/rotate`, {}],
      ["GET", `/v1/notifications/${notificationId}`],
      ["POST", `/v1/notifications/${notificationId}/redeliver`, {}],
      ["GET", `/v1/notifications/${notificationId}/explain`],
      ["POST", "/v1/evaluate", { accountId: "iso-1", prices: {} }],
    ];
    for (const [method, path, body] of denied) {
      const response = await call(path, { method, key: b, ...(body !== undefined ? { body } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.type).toContain("application/problem+json");
    }
    // Same answer as for an id that does not exist.
    expect((await call("/v1/accounts/never-was", { key: b })).status).toBe(404);
    expect((await call("/v1/accounts/iso-1", { method: "PUT", key: b, body: accountBody() })).status).toBe(
      409,
    );
    expect(
      (
        await call("/v1/accounts/iso-1", {
          method: "PUT",
          key: b,
          body: { ...accountBody(), venue: "venue-a" },
        })
      ).status,
    ).toBe(403);
    expect((await call("/v1/endpoints", { key: b })).json.endpoints).toEqual([]);
    expect((await call("/v1/notifications", { key: b })).json.notifications).toEqual([]);
    expect((await call("/v1/notifications?venue=venue-a", { key: b })).status).toBe(403);
    const foreign = await call("/v1/evaluate", {
      method: "POST",
      key: b,
      body: { asOf: now, prices: { BTC: { index: "1" } }, accounts: [{ id: "x", venue: "venue-a" }] },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.json.errors).toEqual([
      { path: "accounts[0].venue", message: "this key acts for venue venue-b" },
    ]);
    // Nothing of A's changed.
    expect((await call("/v1/accounts/iso-1", { key: a })).status).toBe(200);
    expect((await call(`/v1/endpoints/${id}`, { key: a })).json.enabled).toBe(true);
    // A sees its own: the explain reproduces the call.
    const explained = await call(`/v1/notifications/${notificationId}/explain`, { key: a });
    expect(explained.json.diffs).toEqual([]);
    const risk = await call("/v1/accounts/iso-1/risk", { key: a });
    expect(risk.json.state).toMatchObject({ status: "MARGIN_CALL", equity: "100" });
    expect(risk.json.current.result).toMatchObject({ status: "MARGIN_CALL", explain: expect.any(Object) });
  });
});

describe("HTTP API: a price feed's faults are answered per event", () => {
  const event = (eventId: string, asset: string, index: string, ms: number) => ({
    eventId,
    asset,
    index,
    timestamp: new Date(ms).toISOString(),
    source: "t",
  });

  it("answers each event's outcome with its reason, in request order", async () => {
    const t0 = Date.now() - 5_000;
    const outcomes: string[] = [];
    const answer = await call("/v1/prices", {
      method: "POST",
      body: [
        event("fx-1", "FEEDX", "100", t0),
        event("fx-1", "FEEDX", "100", t0), // the same event again
        event("fx-0", "FEEDX", "100", t0 - 10_000), // older than fx-1
        event("fy-old", "FEEDY", "5", t0 - 3_600_000), // an hour old; maxPriceAgeSeconds is 120
        event("fy-2099", "FEEDY", "5", Date.parse("2099-01-01T00:00:00Z")),
        event("fx-jump", "FEEDX", "200", t0 + 1_000), // +100%, over maxJump 25%
      ],
    });
    expect(answer.status).toBe(202);
    for (const o of answer.json.events) outcomes.push(`${o.eventId}:${o.outcome}`);
    expect(outcomes).toEqual([
      "fx-1:accepted",
      "fx-1:duplicate",
      "fx-0:out-of-order",
      "fy-old:stale",
      "fy-2099:rejected",
      "fx-jump:held",
    ]);
    expect(answer.json.events[0].reason).toBeUndefined();
    for (const o of answer.json.events.slice(1)) expect(o.reason, o.eventId).toMatch(/\w/);
    expect(answer.json.events[4].reason).toMatch(/^future-dated: /);
  });

  it("answers 422 naming each event when none was applied, and writes nothing (issue 17's 2099 price)", async () => {
    const before = (await fresh.store.getPrices()).get("BTC");
    const refused = await call("/v1/prices", {
      method: "POST",
      body: { eventId: "x", asset: "BTC", index: "19100", timestamp: "2099-01-01T00:00:00Z", source: "f" },
    });
    expect(refused.status).toBe(422);
    expect(refused.type).toContain("application/problem+json");
    expect(refused.json.errors).toEqual([
      { path: "timestamp", message: expect.stringMatching(/^rejected: future-dated: stamped /) },
    ]);
    expect((await fresh.store.getPrices()).get("BTC")).toEqual(before);
  });
});

describe("HTTP API: validation and bulk import", () => {
  it("answers 422 problem+json naming the offending paths", async () => {
    const response = await call("/v1/accounts/bad-1", {
      method: "PUT",
      key: keys["venue-a"],
      body: {
        collateral: { USDC: "lots" },
        positions: [{ instrument: "X", type: "perp", underlying: "BTC", size: "1e", entryPrice: "1" }],
      },
    });
    expect(response.status).toBe(422);
    expect(response.type).toContain("application/problem+json");
    expect(response.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      "collateral.USDC",
      "positions[0].size",
    ]);
    expect(
      (await call("/v1/accounts/bad-1", { method: "PUT", key: keys["venue-a"], body: "{" })).status,
    ).toBe(400);
  });

  it("imports the good lines of an NDJSON book and reports each bad line with its paths", async () => {
    const lines = [
      JSON.stringify({ id: "imp-1", venue: "venue-a", ...accountBody() }),
      "{not json",
      JSON.stringify({ id: "imp-2", venue: "venue-a", collateral: { USDC: "-" } }),
      JSON.stringify({ id: "imp-3", venue: "venue-b", ...accountBody() }),
      "",
      JSON.stringify({ id: "imp-4", venue: "venue-a", ...accountBody("5000") }),
    ].join("\n");
    const response = await importNdjson(keys["venue-a"], lines);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      imported: 2,
      failed: 3,
      errors: [
        { line: 2, errors: [{ path: "(line)", message: "not JSON" }] },
        { line: 3, errors: [{ path: "collateral.USDC", message: expect.any(String) }] },
        { line: 4, errors: [{ path: "venue", message: "this key acts for venue venue-a" }] },
      ],
    });
    expect((await call("/v1/accounts/imp-4", { key: keys["venue-a"] })).json.account.collateral).toEqual({
      USDC: "5000",
    });
    expect((await call("/v1/accounts/imp-3", { key: keys["venue-b"] })).status).toBe(404);
    // Another venue's id is refused on its line; the rest of that import goes in.
    const taken = await importNdjson(
      keys["venue-b"],
      [
        JSON.stringify({ id: "imp-b", venue: "venue-b", ...accountBody() }),
        JSON.stringify({ id: "imp-1", venue: "venue-b", ...accountBody() }),
      ].join("\n"),
    );
    expect(taken.json).toEqual({
      imported: 1,
      failed: 1,
      errors: [{ line: 2, errors: [{ path: "id", message: "account id imp-1 is taken" }] }],
    });
    expect((await call("/v1/accounts/imp-1", { key: keys["venue-a"] })).json.account.venue).toBe("venue-a");
    const wrongType = await call("/v1/accounts/import", {
      method: "POST",
      key: keys["venue-a"],
      body: lines,
      type: "application/json",
    });
    expect(wrongType.status).toBe(415);
  });
});

describe("HTTP API: what-if", () => {
  it("POST /v1/evaluate answers exactly what `backing evaluate` prints for the same document", async () => {
    const path = join(ROOT, "test/fixtures/portfolio-example.json");
    const document = JSON.parse(readFileSync(path, "utf8"));
    const response = await call("/v1/evaluate", { method: "POST", key: keys["venue-a"], body: document });
    const cli = await runCli(["evaluate", path, "--json"]);
    expect(cli.code).toBe(0);
    expect(response.status).toBe(200);
    expect(response.json).toEqual(JSON.parse(cli.stdout));
  });
});

describe("HTTP API: reports", () => {
  it("gives a venue key its own venue's exposure report only; stress and the book-wide files stay with operators", async () => {
    const job = await runExposureJob({
      store: fresh.store,
      now: Date.now,
      reports: folderReportStore(reportDir),
      rendering: exposureRendering,
    });
    const byVenue = new Map<string, string[]>();
    for await (const page of fresh.store.scanAccounts(100))
      for (const a of page) byVenue.set(a.venue, [...(byVenue.get(a.venue) ?? []), a.id]);
    const own = byVenue.get("venue-a") as string[];
    const others = byVenue.get("venue-b") as string[];
    expect(own.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);

    const latest = await call("/v1/reports/exposure/latest", { key: keys["venue-a"] });
    expect(latest.status).toBe(200);
    expect(latest.json).toMatchObject({
      id: job.reportId,
      venue: "venue-a",
      summary: { accounts: own.length },
    });
    const json = await call(`/v1/reports/exposure/${job.reportId}?format=json`, { key: keys["venue-a"] });
    expect(json.json.accounts).toBe(own.length);
    const html = await call(`/v1/reports/exposure/${job.reportId}?format=html`, { key: keys["venue-a"] });
    expect(html.type).toContain("text/html");
    for (const id of others) {
      expect(json.text).not.toContain(`"${id}"`);
      expect(html.text).not.toContain(`>${id}<`);
    }
    // The book-wide accounts table and stress reports are the operators'.
    expect(
      (await call(`/v1/reports/exposure/${job.reportId}?format=csv&file=accounts`, { key: keys["venue-a"] }))
        .status,
    ).toBe(404);
    expect((await call("/v1/reports/stress/latest", { key: keys["venue-a"] })).status).toBe(403);
    const admin = await call(`/v1/reports/exposure/${job.reportId}?format=json`);
    expect(admin.json.accounts).toBe(job.accounts);
    expect(
      (await call(`/v1/reports/exposure/${job.reportId}?format=csv&file=accounts`)).text.trim().split("\n"),
    ).toHaveLength(job.accounts + 1);
  });
});

describe("HTTP API: rate limiting and OpenAPI", () => {
  it("answers 429 with Retry-After once a key's bucket is empty, and refills with time", async () => {
    let clock = 1_000_000;
    const limited = createApi({
      store: fresh.store,
      now: () => clock,
      delivery: deliveryEnvironment({ allowLoopback: true }),
      reports: folderReportStore(tmpdir()),
      adminKeyHashes: [hashKey(ADMIN)],
      rateLimit: { perMinute: 60, burst: 3 },
    });
    const get = () => limited.request("/v1/params", { headers: { authorization: `Bearer ${ADMIN}` } });
    expect([(await get()).status, (await get()).status, (await get()).status]).toEqual([200, 200, 200]);
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({
      status: 429,
      type: "https://backing.dev/problems/rate-limited",
    });
    clock += 1_000; // one token a second at 60 a minute
    expect((await get()).status).toBe(200);
  });

  it("serves the OpenAPI 3.1 document generated from the contracts, equal to the checked-in docs/openapi.json", async () => {
    const response = await call("/v1/openapi.json", { key: null });
    expect(response.status).toBe(200);
    expect(response.json.openapi).toBe("3.1.0");
    expect(response.json).toEqual(JSON.parse(readFileSync(join(ROOT, "docs/openapi.json"), "utf8")));
    expect(response.json.components.schemas.AccountPut.properties.positions).toBeDefined();
  });
});

describe("HTTP API: oversized bodies", () => {
  /** A chunked PUT (no content-length) of about `megabytes` MB to a real node server; its status and body. */
  const chunkedPut = (port: number, megabytes: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          method: "PUT",
          path: "/v1/accounts/big",
          headers: {
            authorization: `Bearer ${ADMIN}`,
            "content-type": "application/json",
            "transfer-encoding": "chunked",
          },
        },
        (response) => {
          let body = "";
          response.on("data", (chunk) => {
            body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      // The server may answer and close before the whole body is sent: the client's write errors then.
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
      });
      req.write('{"venue":"venue-a","collateral":{"USDC":"');
      const chunk = "7".repeat(64 * 1024);
      for (let i = 0; i < megabytes * 16; i++) req.write(chunk);
      req.end('"},"positions":[]}');
    });

  it("answers a chunked body over 8 MB with 413 and keeps serving", async () => {
    const server = serve({ fetch: api.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const refused = await chunkedPut(port, 9);
      expect(refused.status).toBe(413);
      expect(JSON.parse(refused.body)).toMatchObject({ status: 413, title: "Payload too large" });
      expect((await call("/v1/accounts/big")).status).toBe(404);
      const alive = await fetch(`http://127.0.0.1:${port}/v1/openapi.json`);
      expect(alive.status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("HTTP API: ids and documents within their limits (issue 17, defect 5)", () => {
  const put = (id: string, body: unknown = accountBody()) =>
    call(`/v1/accounts/${encodeURIComponent(id)}`, { method: "PUT", key: keys["venue-a"], body });
  const pathsOf = (response: Awaited<ReturnType<typeof call>>) =>
    (response.json.errors ?? []).map((e: { path: string }) => e.path);

  it("refuses ids that are too long, carry path or key separators, or read as a formula: 422 on id", async () => {
    for (const id of [
      "x".repeat(129),
      "a/b",
      "a#b",
      '=HYPERLINK("http://x")',
      "+1",
      "-1",
      "@SUM(A1)",
      "a b",
      "a\u0000b",
    ]) {
      const refused = await put(id);
      expect(refused.status, id).toBe(422);
      expect(pathsOf(refused), id).toEqual(["id"]);
      expect((await call(`/v1/accounts/${encodeURIComponent(id)}`, { key: keys["venue-a"] })).status).toBe(
        404,
      );
    }
    expect((await put("x".repeat(128))).status).toBe(201);
    expect((await put("ACC_1.b:c@d~e-f")).status).toBe(201);
  });

  it("refuses 20,000 positions naming the limit (was a 500 'safe to retry'), and stores 1,000 of the longest fields", async () => {
    const option = (i: number) => ({
      instrument: `${"I".repeat(58)}${String(i).padStart(6, "0")}`,
      type: "option",
      underlying: "BTC",
      optionType: "call",
      size: "-999999999999999999.999999999999999999",
      strike: "999999999999999999.999999999999999999",
      expiry: "2099-12-31T08:00:00.000+00:00",
      markPrice: "999999999999999999.999999999999999999",
    });
    const tooMany = await put("many", {
      collateral: {},
      positions: Array.from({ length: 20_000 }, (_, i) => option(i)),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors).toEqual([
      { path: "positions", message: "at most 1000 positions per account" },
    ]);
    // The most a document may hold fits DynamoDB's 400 KB item (the account, and its risk state).
    const most = await put("most", {
      collateral: {},
      positions: Array.from({ length: 1000 }, (_, i) => option(i)),
    });
    expect(most.status).toBe(201);
    expect((await call("/v1/accounts/most", { key: keys["venue-a"] })).json.account.positions).toHaveLength(
      1000,
    );
  });

  it("an import reports a 300 KB id and a line over 512 KB on their own lines, and imports the rest", async () => {
    const lines = [
      JSON.stringify({ id: "x".repeat(300 * 1024), venue: "venue-a", ...accountBody() }),
      JSON.stringify({ id: "imp-ok", venue: "venue-a", ...accountBody() }),
      JSON.stringify({
        id: "imp-big",
        venue: "venue-a",
        collateral: { USDC: "1" },
        pad: "p".repeat(600 * 1024),
      }),
    ].join("\n");
    const response = await importNdjson(keys["venue-a"], lines);
    expect(response.status).toBe(200);
    expect(response.json.imported).toBe(1);
    expect(response.json.errors).toEqual([
      { line: 1, errors: [{ path: "id", message: expect.stringContaining("1-128") }] },
      {
        line: 3,
        errors: [
          { path: "(line)", message: expect.stringMatching(/^\d+ bytes, over the 524288-byte line limit$/) },
        ],
      },
    ]);
  });

  it("refuses what could never be evaluated, naming the path, and stores nothing (was 201 and then never watched)", async () => {
    const perp = { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" };
    const cases: [string, unknown, string][] = [
      ["doge", { collateral: { DOGE: "100" } }, "collateral.DOGE"],
      [
        "expired",
        { positions: [{ ...perp, instrument: "BTC-F", type: "future", expiry: "2020-01-01T00:00:00Z" }] },
        "positions[0].expiry",
      ],
      ["twice", { collateral: { USDC: "1" }, positions: [perp, perp] }, "positions[1].instrument"],
      ["unknown-underlying", { positions: [{ ...perp, underlying: "NOPE" }] }, "positions[0].underlying"],
    ];
    for (const [id, body, path] of cases) {
      const refused = await put(id, body);
      expect(refused.status, id).toBe(422);
      expect(pathsOf(refused), id).toEqual([path]);
      expect((await call(`/v1/accounts/${id}`, { key: keys["venue-a"] })).status, id).toBe(404);
    }
    // "__proto__" as a collateral key would have set the parsed object's prototype: the amount vanished.
    const proto = await call("/v1/accounts/proto", {
      method: "PUT",
      key: keys["venue-a"],
      body: '{"collateral":{"__proto__":"5","USDC":"1"}}',
    });
    expect(proto.status).toBe(422);
    expect(pathsOf(proto)).toEqual(["collateral.__proto__"]);
    // An empty account is valid and evaluable: HEALTHY with nothing in it.
    const empty = await put("empty", {});
    expect(empty.status).toBe(201);
    expect(empty.json.invalid).toEqual([]);
    expect((await call("/v1/accounts/empty/risk", { key: keys["venue-a"] })).json.current.result.status).toBe(
      "HEALTHY",
    );
    const imported = await importNdjson(
      keys["venue-a"],
      [
        JSON.stringify({ id: "imp-doge", venue: "venue-a", collateral: { DOGE: "1" } }),
        JSON.stringify({ id: "imp-fine", venue: "venue-a", collateral: { USDC: "1" } }),
      ].join("\n"),
    );
    expect(imported.json).toMatchObject({
      imported: 1,
      errors: [
        {
          line: 1,
          errors: [{ path: "collateral.DOGE", message: expect.stringContaining("unknown collateral") }],
        },
      ],
    });
  });

  it("refuses a 100 KB webhook URL", async () => {
    const refused = await call("/v1/endpoints", {
      method: "POST",
      key: keys["venue-a"],
      body: { url: `https://example.com/${"a".repeat(100 * 1024)}`, types: ["margin.call"] },
    });
    expect(refused.status).toBe(422);
    expect(pathsOf(refused)).toEqual(["url"]);
  });
});

describe("HTTP API: unwatched accounts", () => {
  it("lists a venue's accounts the last sweep could not evaluate, to that venue only; endpoints can subscribe", async () => {
    const mark = (accountId: string, venue: string) => ({
      accountId,
      venue,
      reasons: ["positions[0].expiry: instrument expired"],
      sinceMs: Date.parse("2026-12-01T08:01:00Z"),
      notified: true,
    });
    await fresh.store.putUnwatched(mark("unw-a", "venue-a"));
    await fresh.store.putUnwatched(mark("unw-b", "venue-b"));
    const listed = await call("/v1/unwatched", { key: keys["venue-a"] });
    expect(listed.json.accounts).toEqual([
      {
        id: "unw-a",
        venue: "venue-a",
        reasons: ["positions[0].expiry: instrument expired"],
        since: "2026-12-01T08:01:00.000Z",
      },
    ]);
    expect(
      (await call("/v1/unwatched?venue=venue-b")).json.accounts.map((a: { id: string }) => a.id),
    ).toEqual(["unw-b"]);
    const endpoint = await call("/v1/endpoints", {
      method: "POST",
      key: keys["venue-a"],
      body: { url: receiver.url("/unwatched"), types: ["account.unwatched"] },
    });
    expect(endpoint.status).toBe(201);
    await fresh.store.deleteUnwatched(["unw-a", "unw-b"]);
  });
});

describe("HTTP API: funding prints", () => {
  it("a venue key posts its own venue's funding only; a bad print is a 422 and writes nothing", async () => {
    const print = (venue: string, eventId: string) => ({
      eventId,
      venue,
      asset: "BTC",
      rate: "0.0001",
      fundingTime: new Date().toISOString(),
      price: "20000",
      source: "venue",
    });
    const foreign = await call("/v1/funding", {
      method: "POST",
      key: keys["venue-b"],
      body: print("venue-a", "fa-1"),
    });
    expect(foreign.status).toBe(403);
    expect(foreign.json.errors).toEqual([{ path: "venue", message: "this key acts for venue venue-b" }]);
    const own = await call("/v1/funding", {
      method: "POST",
      key: keys["venue-a"],
      body: print("venue-a", "fa-1"),
    });
    expect(own.status).toBe(202);
    expect(own.json.events).toEqual([
      { eventId: "fa-1", venue: "venue-a", asset: "BTC", outcome: "applied", cumulative: "2" },
    ]);
    const before = await fresh.store.getFunding();
    const bad = await call("/v1/funding", {
      method: "POST",
      body: { ...print("venue-a", "fa-2"), rate: "lots", fundingTime: "2000-01-01T00:00:00Z" },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.errors.map((e: { path: string }) => e.path)).toEqual(["rate"]);
    expect(await fresh.store.getFunding()).toEqual(before);
  });
});

describe("HTTP API: order-book depth", () => {
  const snapshot = (asset: string, timestamp: string) => ({
    asset,
    timestamp,
    bids: [
      ["19990", "2"],
      ["19900", "5"],
    ],
    asks: [
      ["20010", "2"],
      ["20100", "5"],
    ],
  });

  it("an admin stores the latest snapshot per asset; a bad batch is a 422 naming the level and stores nothing", async () => {
    const venue = await call("/v1/depth", {
      method: "POST",
      key: keys["venue-a"],
      body: snapshot("BTC", "2026-01-15T00:00:00Z"),
    });
    expect(venue.status).toBe(403);

    const bad = await call("/v1/depth", {
      method: "POST",
      body: [
        snapshot("BTC", "2026-01-15T00:00:00Z"),
        {
          ...snapshot("ETH", "2026-01-15T00:00:00Z"),
          bids: [
            ["1990", "2"],
            ["1995", "1"],
          ],
        },
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.json.errors.map((e: { path: string }) => e.path)).toEqual(["[1].bids[1][0]"]);
    expect(await fresh.store.getDepth()).toEqual([]);

    const stored = await call("/v1/depth", { method: "POST", body: snapshot("BTC", "2026-01-15T00:00:10Z") });
    expect(stored.status).toBe(201);
    expect(stored.json.snapshots).toEqual([
      { asset: "BTC", timestamp: "2026-01-15T00:00:10Z", outcome: "stored" },
    ]);

    const older = await call("/v1/depth", { method: "POST", body: snapshot("BTC", "2026-01-15T00:00:00Z") });
    expect(older.status).toBe(409);
    expect(older.json.errors).toEqual([
      { path: "timestamp", message: "the stored BTC snapshot is from 2026-01-15T00:00:10Z" },
    ]);
    const read = await call("/v1/depth", { key: keys["venue-b"] });
    expect(read.json.snapshots).toEqual([snapshot("BTC", "2026-01-15T00:00:10Z")]);
  });
});
