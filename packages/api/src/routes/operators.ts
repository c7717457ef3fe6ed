/** The operators' routes: risk parameters, order-book depth and API keys. */
import { ApiKeyCreate, DepthSnapshot, DepthSnapshotList, RiskParamsDocument } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS } from "@backing/core";
import { generateApiKey, hashKey } from "../auth.ts";
import { ApiProblem, parseBody } from "../problem.ts";

import { type Api, jsonBody, type RouteContext, requireAdmin } from "./context.ts";

export function operatorsRoutes(app: Api, ctx: RouteContext): void {
  const { deps } = ctx;

  app.get("/v1/params", async (c) => c.json((await deps.store.getParams()) ?? DEFAULT_RISK_PARAMS));

  app.put("/v1/params", async (c) => {
    requireAdmin(c.get("principal"));
    const document = parseBody(RiskParamsDocument, await jsonBody(c));
    await deps.store.putParams(document);
    return c.json(document);
  });

  // The latest order-book snapshot per asset, for the scheduled stress and exposure jobs (DESIGN §3.11).
  // A batch is checked whole before anything is stored.
  app.post("/v1/depth", async (c) => {
    requireAdmin(c.get("principal"));
    const body = await jsonBody(c);
    const snapshots = Array.isArray(body)
      ? parseBody(DepthSnapshotList, body)
      : [parseBody(DepthSnapshot, body)];
    const results = await Promise.all(snapshots.map((s) => deps.store.putDepth(s)));
    const outcomes = snapshots.map((s, i) => {
      const result = results[i] as (typeof results)[number];
      const { asset, timestamp } = s;
      return result.stored
        ? { asset, timestamp, outcome: "stored" as const }
        : { asset, timestamp, outcome: "older" as const, latest: result.latest };
    });
    const older = outcomes.flatMap((o, i) => (o.outcome === "older" ? [{ ...o, i }] : []));
    if (older.length === outcomes.length)
      throw new ApiProblem(
        409,
        "Older snapshot",
        "a later snapshot is stored for every asset of the request",
        older.map((o) => ({
          path: `${Array.isArray(body) ? `[${o.i}].` : ""}timestamp`,
          message: `the stored ${o.asset} snapshot is from ${o.latest}`,
        })),
      );
    return c.json({ snapshots: outcomes }, 201);
  });

  app.get("/v1/depth", async (c) => c.json({ snapshots: await deps.store.getDepth() }));

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
}
