import { type ReportSummary, reportFileName, venueReportFile } from "@backing/engine";
import type { Principal } from "../auth.ts";
import { ApiProblem, notFound } from "../problem.ts";

import type { Api, RouteContext } from "./context.ts";

export function reportsRoutes(app: Api, ctx: RouteContext): void {
  const { deps } = ctx;

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
    const name = reportFileName(kind, format, file);
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
}
