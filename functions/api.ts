import { createApi } from "@backing/api";
import type { Context } from "aws-lambda";
import { handle } from "hono/aws-lambda";
import { apiWiring } from "./wiring.ts";

let api: ReturnType<typeof handle> | undefined;

/** The HTTP API behind API Gateway (HTTP API, payload v2): the same Hono app as `backing serve`. */
export async function handler(event: Parameters<ReturnType<typeof handle>>[0], context: Context) {
  api ??= handle(createApi(apiWiring()));
  return api(event, context);
}
