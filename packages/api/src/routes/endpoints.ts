/** A venue's webhook endpoints: register, read, change, delete, rotate the secret. */
import { EndpointCreate, EndpointPatch, SecretRotation } from "@backing/contracts";
import { changeEndpoint, registerEndpoint, rotateSecret, type WebhookEndpoint } from "@backing/engine";
import type { Principal } from "../auth.ts";
import { notFound, parseBody } from "../problem.ts";

import { type Api, jsonBody, type RouteContext, safeJson, venueOf } from "./context.ts";

export function endpointsRoutes(app: Api, ctx: RouteContext): void {
  const { deps, webhooks } = ctx;

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
    const patch = parseBody(EndpointPatch, await jsonBody(c));
    const endpoint = await ownEndpoint(c.get("principal"), c.req.param("id"));
    const updated = await changeEndpoint(webhooks, endpoint, {
      ...(patch.types ? { types: patch.types } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    });
    return c.json(endpointView(updated));
  });

  app.delete("/v1/endpoints/:id", async (c) => {
    const endpoint = await ownEndpoint(c.get("principal"), c.req.param("id"));
    await deps.store.deleteEndpoint(endpoint.venue, endpoint.id);
    return c.body(null, 204);
  });

  app.post("/v1/endpoints/:id/rotate", async (c) => {
    const text = await c.req.text();
    const { overlapHours } = parseBody(SecretRotation, text.trim() === "" ? {} : safeJson(text));
    const endpoint = await ownEndpoint(c.get("principal"), c.req.param("id"));
    const rotated = await rotateSecret(webhooks, endpoint.venue, endpoint.id, overlapHours * 3_600_000);
    return c.json(endpointView(rotated, true));
  });
}
