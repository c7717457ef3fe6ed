import { issuesFromZod, type Problem } from "@backing/contracts";
import { PortfolioInputError } from "@backing/core";
import {
  AccountIdTakenError,
  AccountInputError,
  EndpointInputError,
  ExplainError,
  FundingEventInputError,
  PriceEventInputError,
} from "@backing/engine";
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

/**
 * The one table from the engine's errors to problems: what a route lets through is answered
 * here (anything else is a 500 that says it is safe to retry).
 */
export function problemOf(error: unknown): ApiProblem | null {
  if (error instanceof ApiProblem) return error;
  if (error instanceof PortfolioInputError)
    return new ApiProblem(422, "Validation failed", "invalid portfolio document", error.issues);
  if (error instanceof AccountInputError)
    return new ApiProblem(422, "Validation failed", "the account could never be evaluated", error.issues);
  if (error instanceof FundingEventInputError)
    return new ApiProblem(422, "Validation failed", "funding refused: nothing was written", error.issues);
  if (error instanceof PriceEventInputError)
    return new ApiProblem(422, "Validation failed", "invalid price event", error.issues);
  if (error instanceof EndpointInputError) return new ApiProblem(422, "Endpoint refused", error.message);
  if (error instanceof ExplainError) return new ApiProblem(422, "Not explainable", error.message);
  if (error instanceof AccountIdTakenError) return new ApiProblem(409, "Conflict", error.message);
  // The schemas' limits keep items inside DynamoDB's; should one still pass, it is the client's
  // document that is too large, not a failure worth retrying.
  if (error instanceof Error && error.name === "ValidationException" && /size|exceed/i.test(error.message))
    return new ApiProblem(413, "Payload too large", "the document is over DynamoDB's 400 KB item limit");
  return null;
}
