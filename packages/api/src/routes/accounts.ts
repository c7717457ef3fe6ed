/** A venue's accounts: put one (evaluated at once), read, delete, its risk, and the NDJSON import. */
import { Account, AccountPut } from "@backing/contracts";
import { accountRisk, type ImportLine, importAccounts, putAccount } from "@backing/engine";
import { ApiProblem, parseBody } from "../problem.ts";

import { type Api, jsonBody, ownAccount, type RouteContext, venueOf } from "./context.ts";

/** Bulk import: at most this many lines per request (split bigger books). */
export const IMPORT_LINE_LIMIT = 10_000;
/** One import line: an account of MAX_POSITIONS positions of the longest fields fits (about 330 KB). */
export const IMPORT_LINE_BYTES = 512 * 1024;

/**
 * The NDJSON body line by line as it arrives: a line over IMPORT_LINE_BYTES is kept as its size
 * only (never buffered whole, never parsed), and past IMPORT_LINE_LIMIT lines the request is
 * answered 413 without reading the rest. The app's body limit caps the total bytes.
 */
async function readImportLines(body: ReadableStream<Uint8Array> | null): Promise<ImportLine[]> {
  const lines: ImportLine[] = [];
  if (!body) return lines;
  const decoder = new TextDecoder();
  let current = "";
  let currentBytes = 0;
  let oversized = 0;
  const finish = () => {
    lines.push(oversized > 0 ? { oversizedBytes: oversized, limitBytes: IMPORT_LINE_BYTES } : current);
    current = "";
    currentBytes = 0;
    oversized = 0;
    if (lines.length > IMPORT_LINE_LIMIT + 1)
      throw new ApiProblem(413, "Payload too large", `at most ${IMPORT_LINE_LIMIT} lines per request`);
  };
  const take = (text: string) => {
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      append(text.slice(start, end));
      finish();
      start = end + 1;
    }
    append(text.slice(start));
  };
  const append = (piece: string) => {
    const bytes = Buffer.byteLength(piece);
    if (oversized > 0) oversized += bytes;
    else if (currentBytes + bytes > IMPORT_LINE_BYTES) {
      oversized = currentBytes + bytes;
      current = "";
    } else {
      current += piece;
      currentBytes += bytes;
    }
  };
  for await (const chunk of body) take(decoder.decode(chunk, { stream: true }));
  take(decoder.decode());
  finish();
  return lines;
}

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
    const account = parseBody(Account, { ...body, id, venue: venueOf(principal, body.venue) });
    const { created, invalid } = await putAccount(engine, account);
    return c.json({ account, created, invalid }, created ? 201 : 200);
  });

  // Stored accounts the engine cannot evaluate now (an asset unpriced, an instrument expired), as
  // the last sweep found them: no margin call can be made on them until they are fixed.
  app.get("/v1/unwatched", async (c) => {
    const principal = c.get("principal");
    const venue = principal.venue ?? c.req.query("venue");
    const marks = (await deps.store.listUnwatched()).filter((m) => venue === undefined || m.venue === venue);
    return c.json({
      accounts: marks.map((m) => ({
        id: m.accountId,
        venue: m.venue,
        reasons: m.reasons,
        since: new Date(m.sinceMs).toISOString(),
      })),
    });
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
    const lines = await readImportLines(c.req.raw.body);
    return c.json(await importAccounts(engine, lines, principal.venue));
  });
}
