/** What every route module gets: the deps, the engine and webhook deps made from them, and the request helpers. */
import type { EngineDeps, WebhookDeps } from "@backing/engine";
import type { Context, Hono } from "hono";
import type { ApiDeps } from "../app.ts";
import type { Principal } from "../auth.ts";
import { ApiProblem, notFound } from "../problem.ts";

export type Env = { Variables: { principal: Principal } };
export type Api = Hono<Env>;

export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** An NDJSON import of IMPORT_LINE_LIMIT accounts of a few hundred bytes to a kilobyte each fits inside. */
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024;

export interface RouteContext {
  deps: ApiDeps;
  engine: EngineDeps;
  webhooks: WebhookDeps;
}

/** The request's JSON body (its size is capped by the app's body limit, chunked or not). */
export async function jsonBody(c: Context<Env>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new ApiProblem(400, "Bad request", "the body is not JSON");
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiProblem(400, "Bad request", "the body is not JSON");
  }
}

/** The venue a request acts for: a venue key's own; an admin names it (body or `?venue=`). */
export function venueOf(principal: Principal, named: string | undefined): string {
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
}

export function requireAdmin(principal: Principal): void {
  if (principal.venue !== null) throw new ApiProblem(403, "Forbidden", "operators (admin keys) only");
}

export const visible = (principal: Principal, venue: string) =>
  principal.venue === null || principal.venue === venue;

/** An account the key may see: another venue's answers 404, exactly as one that does not exist. */
export async function ownAccount({ deps }: RouteContext, principal: Principal, id: string) {
  const stored = (await deps.store.getAccounts([id])).get(id);
  if (!stored || !visible(principal, stored.account.venue)) throw notFound(`account ${id}`);
  return stored;
}
