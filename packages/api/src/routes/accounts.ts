/** A venue's accounts: put one (evaluated at once), read, delete, its risk, and the NDJSON import. */
import { Account, AccountPut } from "@backing/contracts";
import { accountRisk, importAccounts, putAccount } from "@backing/engine";
import { ApiProblem, parseBody } from "../problem.ts";

import { type Api, jsonBody, ownAccount, type RouteContext, venueOf } from "./context.ts";

/** Bulk import: at most this many lines per request (split bigger books). */
export const IMPORT_LINE_LIMIT = 10_000;

export function accountsRoutes(app: Api, ctx: RouteContext): void {
  const { deps, engine } = ctx;

  app.put("/v1/accounts/:id", async (c) => {
    const principal = c.get("principal");
    const id = c.req.param("id");
    const body = parseBody(AccountPut, await jsonBody(c));
    if (body.id !== undefined && body.id !== id)
      throw new ApiProblem(422, "Validation failed", "the body's id differs from the path's", [
        { path: "id", message: `expected "${id}"` },
      ]);
    const account = Account.parse({ ...body, id, venue: venueOf(principal, body.venue) });
    const { created, invalid } = await putAccount(engine, account);
    return c.json({ account, created, invalid }, created ? 201 : 200);
  });

  app.get("/v1/accounts/:id", async (c) => {
    const { account, version } = await ownAccount(ctx, c.get("principal"), c.req.param("id"));
    return c.json({ account, version });
  });

  app.delete("/v1/accounts/:id", async (c) => {
    const { account } = await ownAccount(ctx, c.get("principal"), c.req.param("id"));
    await deps.store.deleteAccount(account);
    return c.body(null, 204);
  });

  app.get("/v1/accounts/:id/risk", async (c) => {
    const { account } = await ownAccount(ctx, c.get("principal"), c.req.param("id"));
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
    return c.json(await importAccounts(deps.store, lines, principal.venue));
  });
}
