import type { EngineDeps, EventOutcome, ReportStore, Store, TaskQueue, WebhookDeps } from "@backing/engine";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { keyResolver, rateLimiter } from "./auth.ts";
import { openApiDocument } from "./openapi.ts";
import { ApiProblem, notFound, problemOf, problemResponse } from "./problem.ts";
import { accountsRoutes } from "./routes/accounts.ts";
import { type Env, MAX_BODY_BYTES, MAX_IMPORT_BYTES, type RouteContext } from "./routes/context.ts";
import { endpointsRoutes } from "./routes/endpoints.ts";
import { notificationsRoutes } from "./routes/notifications.ts";
import { operatorsRoutes } from "./routes/operators.ts";
import { pricesRoutes } from "./routes/prices.ts";
import { reportsRoutes } from "./routes/reports.ts";

export interface ApiDeps {
  store: Store;
  now: () => number;
  volatility?: Record<string, string>;
  delivery: WebhookDeps["delivery"];
  reports: ReportStore;
  /** SHA-256 hex of the operators' admin keys (from a secret; never the keys themselves). */
  adminKeyHashes: readonly string[];
  rateLimit?: { perMinute: number; burst: number };
  /** Large ticks' shard tasks (SQS in AWS, in-process locally); inline without one. */
  queue?: TaskQueue;
  onAttempt?: WebhookDeps["onAttempt"];
  /** Every price event's outcome (`POST /v1/prices`): the wiring logs the ones not accepted and counts them all. */
  onPriceOutcomes?: (outcomes: readonly EventOutcome[]) => void;
  /** One structured entry per request (never a header: keys stay out of logs). */
  log?: (entry: {
    method: string;
    path: string;
    status: number;
    venue: string | null;
    durationMs: number;
  }) => void;
}

export { IMPORT_LINE_LIMIT } from "./routes/accounts.ts";

/**
 * The HTTP API (DESIGN §6), the same app behind API Gateway in AWS and `backing serve` locally.
 * Every route but the OpenAPI document needs `Authorization: Bearer <key>`. A venue's key sees
 * and changes only that venue's accounts, endpoints and notifications: anything of another venue
 * answers 404, exactly as an id that does not exist. Admin keys (operators) post prices, set
 * params, create keys and read the book-wide reports.
 */
export function createApi(deps: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const resolve = keyResolver(deps.store, deps.adminKeyHashes, deps.now);
  const limit = rateLimiter(deps.rateLimit ?? { perMinute: 600, burst: 100 }, deps.now);
  const engine: EngineDeps = { store: deps.store, now: deps.now, volatility: deps.volatility ?? {} };
  const webhooks: WebhookDeps = {
    store: deps.store,
    now: deps.now,
    delivery: deps.delivery,
    ...(deps.onAttempt ? { onAttempt: deps.onAttempt } : {}),
  };

  app.onError((error, c) => {
    const path = new URL(c.req.url).pathname;
    const problem = problemOf(error);
    if (problem) return problemResponse(problem, path);
    console.error(
      JSON.stringify({ level: "ERROR", message: "api request failed", path, error: String(error) }),
    );
    return problemResponse(
      new ApiProblem(500, "Internal error", "the request failed; it is safe to retry"),
      path,
    );
  });
  app.notFound((c) =>
    problemResponse(
      notFound(`route ${c.req.method} ${new URL(c.req.url).pathname}`),
      new URL(c.req.url).pathname,
    ),
  );

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    deps.log?.({
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      status: c.res.status,
      venue: c.get("principal")?.venue ?? null,
      durationMs: Math.round(performance.now() - started),
    });
  });

  app.get("/v1/openapi.json", (c) => c.json(openApiDocument()));

  // Every body is read through a byte cap, chunked ones too (no content-length to check first):
  // past it the request is answered 413 and the rest of the body is not read.
  app.use("/v1/*", (c, next) => {
    const maxSize = c.req.path === "/v1/accounts/import" ? MAX_IMPORT_BYTES : MAX_BODY_BYTES;
    return bodyLimit({
      maxSize,
      onError: (c) =>
        problemResponse(
          new ApiProblem(413, "Payload too large", `at most ${maxSize} bytes`),
          new URL(c.req.url).pathname,
        ),
    })(c, next);
  });

  app.use("/v1/*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match)
      throw new ApiProblem(401, "Unauthorized", "send Authorization: Bearer <api key>", undefined, bearer);
    const principal = await resolve(match[1] as string);
    if (!principal) throw new ApiProblem(401, "Unauthorized", "unknown API key", undefined, bearer);
    const verdict = limit(principal.keyHash);
    if (!verdict.allowed)
      throw new ApiProblem(429, "Too many requests", "rate limit exceeded for this key", undefined, {
        "retry-after": String(verdict.retryAfterSeconds),
      });
    c.set("principal", principal);
    await next();
  });

  const context: RouteContext = { deps, engine, webhooks };
  for (const routes of [
    accountsRoutes,
    pricesRoutes,
    operatorsRoutes,
    reportsRoutes,
    endpointsRoutes,
    notificationsRoutes,
  ])
    routes(app, context);
  return app;
}

const bearer = { "www-authenticate": 'Bearer realm="backing"' };
