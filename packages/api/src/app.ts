import {
  Account,
  AccountPut,
  ApiKeyCreate,
  EndpointCreate,
  EndpointPatch,
  issuesFromZod,
  PortfolioDocument,
  RiskParamsDocument,
  SecretRotation,
  StoredWhatIf,
} from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, evaluatePortfolio, PortfolioInputError, parsePortfolio } from "@backing/core";
import {
  accountRisk,
  deliveryStatusOf,
  EndpointInputError,
  type EngineDeps,
  ExplainError,
  explainNotification,
  exposureAssets,
  type NotificationRecord,
  PriceEventInputError,
  type ReportStore,
  type ReportSummary,
  recomputeAccounts,
  registerEndpoint,
  replayParked,
  rotateSecret,
  runTickOrFanOut,
  type Store,
  type TaskQueue,
  venueReportFile,
  type WebhookDeps,
  type WebhookEndpoint,
} from "@backing/engine";
import { Hono } from "hono";
import { generateApiKey, hashKey, keyResolver, type Principal, rateLimiter } from "./auth.ts";
import { openApiDocument } from "./openapi.ts";
import { ApiProblem, notFound, parseBody, problemResponse } from "./problem.ts";

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
  /** One structured entry per request (never a header: keys stay out of logs). */
  log?: (entry: {
    method: string;
    path: string;
    status: number;
    venue: string | null;
    durationMs: number;
  }) => void;
}

/** Bulk import: at most this many lines per request (split bigger books). */
export const IMPORT_LINE_LIMIT = 10_000;
const MAX_BODY_BYTES = 8 * 1024 * 1024;

type Env = { Variables: { principal: Principal } };

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
    if (error instanceof ApiProblem) return problemResponse(error, path);
    if (error instanceof PortfolioInputError)
      return problemResponse(
        new ApiProblem(422, "Validation failed", "invalid portfolio document", error.issues),
        path,
      );
    if (error instanceof PriceEventInputError)
      return problemResponse(
        new ApiProblem(422, "Validation failed", "invalid price event", error.issues),
        path,
      );
    if (error instanceof EndpointInputError)
      return problemResponse(new ApiProblem(422, "Endpoint refused", error.message), path);
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

  const jsonBody = async (c: {
    req: { json(): Promise<unknown>; header(name: string): string | undefined };
  }) => {
    if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES)
      throw new ApiProblem(413, "Payload too large", `at most ${MAX_BODY_BYTES} bytes`);
    try {
      return await c.req.json();
    } catch {
      throw new ApiProblem(400, "Bad request", "the body is not JSON");
    }
  };

  /** The venue a request acts for: a venue key's own; an admin names it (body or `?venue=`). */
  const venueOf = (principal: Principal, named: string | undefined): string => {
    if (principal.venue === null) {
      if (!named)
        throw new ApiProblem(422, "Validation failed", "admin keys must name the venue", [
          { path: "venue", message: "required for admin keys" },
        ]);
      return named;
    }
    if (named !== undefined && named !== principal.venue)
      throw new ApiProblem(403, "Forbidden", "this key acts for another venue");
    return principal.venue;
  };
  const requireAdmin = (principal: Principal) => {
    if (principal.venue !== null) throw new ApiProblem(403, "Forbidden", "operators (admin keys) only");
  };
  const visible = (principal: Principal, venue: string) =>
    principal.venue === null || principal.venue === venue;

  /** New documents in; an updated account keeps its risk state, and drops the exposure entries of assets it left. */
  const replaceAccounts = async (accounts: Account[], previous: ReadonlyMap<string, Account>) => {
    await deps.store.putAccounts(accounts);
    for (const account of accounts) {
      const before = previous.get(account.id);
      if (!before) continue;
      const now = new Set(exposureAssets(account));
      const left = exposureAssets(before).filter((asset) => !now.has(asset));
      if (left.length > 0) await deps.store.dropExposure(account.id, left);
    }
  };

  const ownAccount = async (principal: Principal, id: string) => {
    const stored = (await deps.store.getAccounts([id])).get(id);
    if (!stored || !visible(principal, stored.account.venue)) throw notFound(`account ${id}`);
    return stored;
  };

  // --- accounts --------------------------------------------------------------------------------

  app.put("/v1/accounts/:id", async (c) => {
    const principal = c.get("principal");
    const id = c.req.param("id");
    const body = parseBody(AccountPut, await jsonBody(c));
    if (body.id !== undefined && body.id !== id)
      throw new ApiProblem(422, "Validation failed", "the body's id differs from the path's", [
        { path: "id", message: `expected "${id}"` },
      ]);
    const venue = venueOf(principal, body.venue);
    const existing = (await deps.store.getAccounts([id])).get(id);
    // Another venue's account with this id: the id is taken, and saying so leaks nothing useful.
    if (existing && existing.account.venue !== venue)
      throw new ApiProblem(409, "Conflict", `account id ${id} is taken`);
    const account = Account.parse({ ...body, id, venue });
    await replaceAccounts([account], existing ? new Map([[id, existing.account]]) : new Map());
    // Evaluated at once (its state and bands), so its status reflects the new document now.
    const evaluation = await recomputeAccounts([id], engine, { bands: true });
    return c.json({ account, created: !existing, invalid: evaluation.invalid }, existing ? 200 : 201);
  });

  app.get("/v1/accounts/:id", async (c) => {
    const { account, version } = await ownAccount(c.get("principal"), c.req.param("id"));
    return c.json({ account, version });
  });

  app.delete("/v1/accounts/:id", async (c) => {
    const { account } = await ownAccount(c.get("principal"), c.req.param("id"));
    await deps.store.deleteAccount(account);
    return c.body(null, 204);
  });

  app.get("/v1/accounts/:id/risk", async (c) => {
    const { account } = await ownAccount(c.get("principal"), c.req.param("id"));
    return c.json(await accountRisk(engine, account));
  });

  app.post("/v1/accounts/import", async (c) => {
    const principal = c.get("principal");
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/(x-)?ndjson\b/.test(type))
      throw new ApiProblem(
        415,
        "Unsupported media type",
        "send application/x-ndjson: one account document per line",
      );
    const text = await c.req.text();
    const lines = text.split("\n");
    if (lines.length > IMPORT_LINE_LIMIT + 1)
      throw new ApiProblem(413, "Payload too large", `at most ${IMPORT_LINE_LIMIT} lines per request`);
    const accounts: { account: Account; line: number }[] = [];
    const errors: { line: number; errors: { path: string; message: string }[] }[] = [];
    const seen = new Set<string>();
    for (const [i, line] of lines.entries()) {
      if (line.trim() === "") continue;
      const lineErrors = (issues: { path: string; message: string }[]) =>
        errors.push({ line: i + 1, errors: issues });
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        lineErrors([{ path: "(line)", message: "not JSON" }]);
        continue;
      }
      const result = Account.safeParse(parsed);
      if (!result.success) {
        lineErrors(issuesFromZod(result.error));
        continue;
      }
      const account = result.data;
      if (!visible(principal, account.venue)) {
        lineErrors([{ path: "venue", message: `this key acts for venue ${principal.venue}` }]);
        continue;
      }
      if (seen.has(account.id)) {
        lineErrors([{ path: "id", message: `account ${account.id} appears twice in this import` }]);
        continue;
      }
      seen.add(account.id);
      accounts.push({ account, line: i + 1 });
    }
    // Ids another venue already holds are refused line by line, like any other bad line.
    const existing = await deps.store.getAccounts(accounts.map((a) => a.account.id));
    const accepted = accounts
      .filter(({ account, line }) => {
        const other = existing.get(account.id);
        if (!other || other.account.venue === account.venue) return true;
        errors.push({ line, errors: [{ path: "id", message: `account id ${account.id} is taken` }] });
        return false;
      })
      .map(({ account }) => account);
    await replaceAccounts(accepted, new Map([...existing].map(([id, s]) => [id, s.account])));
    errors.sort((a, b) => a.line - b.line);
    return c.json({ imported: accepted.length, failed: errors.length, errors });
  });

  // --- prices, evaluate ------------------------------------------------------------------------

  app.post("/v1/prices", async (c) => {
    requireAdmin(c.get("principal"));
    const result = await runTickOrFanOut(await jsonBody(c), {
      ...engine,
      ...(deps.queue ? { queue: deps.queue } : {}),
    });
    return c.json(
      {
        triggered: result.triggered,
        queued: result.queued,
        evaluated: result.recompute?.evaluated ?? 0,
        notifications: result.recompute?.notifications ?? {},
      },
      202,
    );
  });

  app.post("/v1/evaluate", async (c) => {
    const principal = c.get("principal");
    const body = (await jsonBody(c)) as Record<string, unknown>;
    if (body && typeof body === "object" && "accountId" in body) {
      const whatIf = parseBody(StoredWhatIf, body);
      const { account } = await ownAccount(principal, whatIf.accountId);
      const risk = await accountRisk(engine, account, whatIf.prices);
      return c.json({
        asOf: risk.current.asOf,
        paramsVersion: risk.current.paramsVersion,
        accounts: [risk.current.result],
      });
    }
    const document = parseBody(PortfolioDocument, body);
    const foreign = document.accounts.findIndex((a) => !visible(principal, a.venue));
    if (foreign >= 0)
      throw new ApiProblem(403, "Forbidden", "a venue key evaluates only its own venue's accounts", [
        { path: `accounts[${foreign}].venue`, message: `this key acts for venue ${principal.venue}` },
      ]);
    // The same evaluation as `backing evaluate` on the same document: shipped defaults + the document's overrides.
    return c.json(
      evaluatePortfolio(parsePortfolio(body, DEFAULT_RISK_PARAMS), {
        explain: c.req.query("explain") === "true",
      }),
    );
  });

  // --- params (operators) ----------------------------------------------------------------------

  app.get("/v1/params", async (c) => c.json((await deps.store.getParams()) ?? DEFAULT_RISK_PARAMS));

  app.put("/v1/params", async (c) => {
    requireAdmin(c.get("principal"));
    const document = parseBody(RiskParamsDocument, await jsonBody(c));
    await deps.store.putParams(document);
    return c.json(document);
  });

  app.post("/v1/keys", async (c) => {
    requireAdmin(c.get("principal"));
    const input = parseBody(ApiKeyCreate, await jsonBody(c));
    const key = generateApiKey();
    await deps.store.putApiKey({
      hash: hashKey(key),
      venue: input.venue,
      label: input.label,
      createdAtMs: deps.now(),
    });
    return c.json({ key, venue: input.venue, label: input.label }, 201);
  });

  // --- reports (operators: they cover the whole book) ------------------------------------------

  const reportKind = (kind: string): ReportSummary["kind"] => {
    if (kind !== "exposure" && kind !== "stress") throw notFound(`report kind ${kind} (exposure or stress)`);
    return kind;
  };

  /** Venue keys read exposure reports only, and only their venue's own report inside each. */
  const reportAccess = (principal: Principal, kind: ReportSummary["kind"]) => {
    if (principal.venue !== null && kind !== "exposure")
      throw new ApiProblem(
        403,
        "Forbidden",
        "stress reports cover the whole book: operators (admin keys) only",
      );
    return principal.venue;
  };

  app.get("/v1/reports/:kind/latest", async (c) => {
    const kind = reportKind(c.req.param("kind"));
    const venue = reportAccess(c.get("principal"), kind);
    const summary = await deps.store.latestReportSummary(kind);
    if (!summary) throw notFound(`${kind} report yet`);
    if (venue === null) return c.json(summary);
    const own = await deps.reports.read(kind, summary.id, venueReportFile(venue, "exposure.json"));
    if (own === null) throw notFound(`exposure report of venue ${venue} yet`);
    const report = JSON.parse(own) as { accounts: number; accountsByStatus: unknown; totals: unknown };
    return c.json({
      kind,
      id: summary.id,
      asOf: summary.asOf,
      createdAtMs: summary.createdAtMs,
      venue,
      summary: {
        accounts: report.accounts,
        accountsByStatus: report.accountsByStatus,
        totals: report.totals,
      },
    });
  });

  app.get("/v1/reports/:kind/:id", async (c) => {
    const kind = reportKind(c.req.param("kind"));
    const venue = reportAccess(c.get("principal"), kind);
    const id = c.req.param("id");
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw notFound(`report ${id}`);
    const format = c.req.query("format") ?? "json";
    const file = c.req.query("file");
    const name =
      kind === "stress"
        ? format === "json"
          ? undefined
          : null
        : format === "json"
          ? "exposure.json"
          : format === "html"
            ? "exposure.html"
            : format === "csv" && file && /^[a-z]+$/.test(file)
              ? `${file}.csv`
              : null;
    if (name === null)
      throw new ApiProblem(422, "Validation failed", "unknown format", [
        {
          path: "format",
          message:
            kind === "stress"
              ? "stress reports are json"
              : "json, html, or csv with ?file=<table> (summary, assets, …)",
        },
      ]);
    // A venue reads the files of its own report (no book-wide accounts table).
    const content = await deps.reports.read(
      kind,
      id,
      venue !== null && name ? venueReportFile(venue, name) : name,
    );
    if (content === null) throw notFound(`${kind} report ${id}${name ? ` (${name})` : ""}`);
    const types: Record<string, string> = {
      json: "application/json",
      html: "text/html; charset=utf-8",
      csv: "text/csv; charset=utf-8",
    };
    return c.body(content, 200, { "content-type": types[format] as string });
  });

  // --- webhook endpoints -----------------------------------------------------------------------

  const endpointView = (e: WebhookEndpoint, withSecret = false) => ({
    id: e.id,
    venue: e.venue,
    url: e.url,
    types: e.types,
    enabled: e.enabled,
    ...(e.disabledReason ? { disabledReason: e.disabledReason } : {}),
    createdAt: new Date(e.createdAtMs).toISOString(),
    ...(withSecret ? { secret: e.secrets[0]?.secret } : {}),
  });
  const ownEndpoint = async (principal: Principal, id: string) => {
    const list = await deps.store.listEndpoints(principal.venue ?? undefined);
    const endpoint = list.find((e) => e.id === id);
    if (!endpoint) throw notFound(`endpoint ${id}`);
    return endpoint;
  };

  app.get("/v1/endpoints", async (c) => {
    const principal = c.get("principal");
    const venue = principal.venue ?? c.req.query("venue");
    return c.json({ endpoints: (await deps.store.listEndpoints(venue)).map((e) => endpointView(e)) });
  });

  app.post("/v1/endpoints", async (c) => {
    const principal = c.get("principal");
    const input = parseBody(EndpointCreate, await jsonBody(c));
    const endpoint = await registerEndpoint(webhooks, {
      venue: venueOf(principal, input.venue),
      url: input.url,
      types: input.types,
    });
    return c.json(endpointView(endpoint, true), 201);
  });

  app.get("/v1/endpoints/:id", async (c) =>
    c.json(endpointView(await ownEndpoint(c.get("principal"), c.req.param("id")))),
  );

  app.patch("/v1/endpoints/:id", async (c) => {
    const endpoint = await ownEndpoint(c.get("principal"), c.req.param("id"));
    const patch = parseBody(EndpointPatch, await jsonBody(c));
    const updated: WebhookEndpoint = {
      ...endpoint,
      ...(patch.types ? { types: [...new Set(patch.types)] } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    };
    if (patch.enabled === true) delete updated.disabledReason;
    await deps.store.putEndpoint(updated);
    return c.json(endpointView(updated));
  });

  app.delete("/v1/endpoints/:id", async (c) => {
    const endpoint = await ownEndpoint(c.get("principal"), c.req.param("id"));
    await deps.store.deleteEndpoint(endpoint.venue, endpoint.id);
    return c.body(null, 204);
  });

  app.post("/v1/endpoints/:id/rotate", async (c) => {
    const endpoint = await ownEndpoint(c.get("principal"), c.req.param("id"));
    const text = await c.req.text();
    const { overlapHours } = parseBody(SecretRotation, text.trim() === "" ? {} : safeJson(text));
    const rotated = await rotateSecret(webhooks, endpoint.venue, endpoint.id, overlapHours * 3_600_000);
    return c.json(endpointView(rotated, true));
  });

  // --- notifications ---------------------------------------------------------------------------

  const ownNotification = async (principal: Principal, id: string): Promise<NotificationRecord> => {
    const notification = await deps.store.getNotification(id);
    if (!notification || !visible(principal, notification.venue)) throw notFound(`notification ${id}`);
    return notification;
  };

  app.get("/v1/notifications", async (c) => {
    const principal = c.get("principal");
    const venue = venueOf(principal, c.req.query("venue"));
    const limit = Number(c.req.query("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new ApiProblem(422, "Validation failed", "limit is 1 to 500", [
        { path: "limit", message: "an integer from 1 to 500" },
      ]);
    const before = c.req.query("before");
    const page = await deps.store.venueNotifications(venue, { limit, ...(before ? { before } : {}) });
    return c.json({
      notifications: page.notifications.map((n) => ({
        id: n.id,
        type: n.type,
        accountId: n.accountId,
        createdAt: new Date(n.createdAtMs).toISOString(),
        payload: n.payload,
      })),
      next: page.next,
    });
  });

  app.get("/v1/notifications/:id", async (c) => {
    const notification = await ownNotification(c.get("principal"), c.req.param("id"));
    const deliveries = await deps.store.getDeliveries(notification.id);
    return c.json({
      id: notification.id,
      type: notification.type,
      venue: notification.venue,
      accountId: notification.accountId,
      createdAt: new Date(notification.createdAtMs).toISOString(),
      payload: notification.payload,
      delivery: deliveryStatusOf(deliveries),
      deliveries: deliveries.map((d) => ({
        endpointId: d.endpointId,
        status: d.status,
        attempts: d.attempts,
      })),
    });
  });

  app.post("/v1/notifications/:id/redeliver", async (c) => {
    const notification = await ownNotification(c.get("principal"), c.req.param("id"));
    const replayed = await replayParked(webhooks, notification.id, { delivered: true });
    return c.json({ id: notification.id, replayed }, 202);
  });

  app.get("/v1/notifications/:id/explain", async (c) => {
    const notification = await ownNotification(c.get("principal"), c.req.param("id"));
    try {
      return c.json(await explainNotification(deps.store, notification.id));
    } catch (error) {
      if (error instanceof ExplainError) throw new ApiProblem(422, "Not explainable", error.message);
      throw error;
    }
  });

  return app;
}

const bearer = { "www-authenticate": 'Bearer realm="backing"' };

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiProblem(400, "Bad request", "the body is not JSON");
  }
}
