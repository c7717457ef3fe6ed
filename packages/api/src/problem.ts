import { issuesFromZod, type Problem } from "@backing/contracts";
import type { z } from "zod";

/** An error the API answers with an RFC 9457 problem document. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: { path: string; message: string }[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = "ApiProblem";
  }
}

const TYPES: Record<number, string> = {
  400: "bad-request",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  409: "conflict",
  413: "payload-too-large",
  415: "unsupported-media-type",
  422: "validation-failed",
  429: "rate-limited",
  500: "internal",
};

export function problemResponse(problem: ApiProblem, instance: string): Response {
  const body: Problem = {
    type: `https://backing.dev/problems/${TYPES[problem.status] ?? "error"}`,
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    instance,
    ...(problem.errors ? { errors: problem.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { "content-type": "application/problem+json", ...problem.headers },
  });
}

export const notFound = (what: string) => new ApiProblem(404, "Not found", `no ${what}`);

/** Parses with one contracts schema; a failure is a 422 naming every offending path. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new ApiProblem(
      422,
      "Validation failed",
      "the request body does not match the schema",
      issuesFromZod(result.error),
    );
  return result.data;
}
