/** The operators' routes: risk parameters and API keys. */
import { ApiKeyCreate, RiskParamsDocument } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS } from "@backing/core";
import { generateApiKey, hashKey } from "../auth.ts";
import { parseBody } from "../problem.ts";

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
