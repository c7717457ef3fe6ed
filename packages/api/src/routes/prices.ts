/** Price events in (operators), and what-if evaluation of a stored account or a portfolio document. */
import { PortfolioDocument, StoredWhatIf } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, evaluatePortfolio, parsePortfolio } from "@backing/core";
import { accountRisk, isRefused, runFundingOrFanOut, runTickOrFanOut } from "@backing/engine";
import { ApiProblem, parseBody } from "../problem.ts";

import { type Api, jsonBody, ownAccount, type RouteContext, requireAdmin, visible } from "./context.ts";

export function pricesRoutes(app: Api, ctx: RouteContext): void {
  const { deps, engine } = ctx;
  // Price ticks and funding prints recompute inline, or fan out to the queue when there is one.
  const recomputing = { ...engine, ...(deps.queue ? { queue: deps.queue } : {}) };

  app.post("/v1/prices", async (c) => {
    requireAdmin(c.get("principal"));
    const body = await jsonBody(c);
    const result = await runTickOrFanOut(body, recomputing);
    deps.onPriceOutcomes?.(result.outcomes);
    // Nothing of the request was taken (each event stale, out of order or refused): a 422 that
    // says why per event. Anything accepted, held or already applied is a 202 with every outcome.
    if (result.outcomes.every(isRefused)) {
      const batch = Array.isArray(body);
      throw new ApiProblem(
        422,
        "Price refused",
        "no event of the request was applied",
        result.outcomes.map((o, i) => ({
          path: `${batch ? `[${i}].` : ""}timestamp`,
          message: `${o.outcome}: ${o.reason}`,
        })),
      );
    }
    return c.json(
      {
        events: result.outcomes,
        triggered: result.triggered,
        queued: result.queued,
        evaluated: result.recompute?.evaluated ?? 0,
        notifications: result.recompute?.notifications ?? {},
      },
      202,
    );
  });

  // Funding prints (DESIGN §3.10): a venue key posts its own venue's, an admin key any venue's.
  app.post("/v1/funding", async (c) => {
    const principal = c.get("principal");
    const body = await jsonBody(c);
    const events = Array.isArray(body) ? body : [body];
    const foreign = events.findIndex(
      (e) => principal.venue !== null && (e as { venue?: unknown } | null)?.venue !== principal.venue,
    );
    if (foreign >= 0)
      throw new ApiProblem(403, "Forbidden", "a venue key posts only its own venue's funding", [
        {
          path: Array.isArray(body) ? `[${foreign}].venue` : "venue",
          message: `this key acts for venue ${principal.venue}`,
        },
      ]);
    const result = await runFundingOrFanOut(body, recomputing);
    return c.json(
      {
        events: result.outcomes,
        accounts: result.accounts,
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
      const { account } = await ownAccount(ctx, principal, whatIf.accountId);
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
}
