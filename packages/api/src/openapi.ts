import {
  AccountPut,
  ApiKeyCreate,
  DepthSnapshot,
  DepthSnapshotList,
  EndpointCreate,
  EndpointPatch,
  EndpointView,
  EvaluationOutput,
  FundingEventBatch,
  ImportResult,
  PortfolioDocument,
  PriceEventBatch,
  PriceIngestResult,
  Problem,
  RiskParamsDocument,
  SecretRotation,
  StoredWhatIf,
  WebhookPayload,
} from "@backing/contracts";
import { z } from "zod";

const COMPONENTS: Record<string, { schema: z.ZodType; io: "input" | "output" }> = {
  AccountPut: { schema: AccountPut, io: "input" },
  PortfolioDocument: { schema: PortfolioDocument, io: "input" },
  StoredWhatIf: { schema: StoredWhatIf, io: "input" },
  EvaluationOutput: { schema: EvaluationOutput, io: "output" },
  PriceEventBatch: { schema: PriceEventBatch, io: "input" },
  FundingEventBatch: { schema: FundingEventBatch, io: "input" },
  DepthSnapshot: { schema: DepthSnapshot, io: "input" },
  DepthSnapshotList: { schema: DepthSnapshotList, io: "input" },
  PriceIngestResult: { schema: PriceIngestResult, io: "output" },
  RiskParamsDocument: { schema: RiskParamsDocument, io: "input" },
  ApiKeyCreate: { schema: ApiKeyCreate, io: "input" },
  EndpointCreate: { schema: EndpointCreate, io: "input" },
  EndpointPatch: { schema: EndpointPatch, io: "input" },
  SecretRotation: { schema: SecretRotation, io: "input" },
  Endpoint: { schema: EndpointView, io: "output" },
  ImportResult: { schema: ImportResult, io: "output" },
  WebhookPayload: { schema: WebhookPayload, io: "output" },
  Problem: { schema: Problem, io: "output" },
};

type Operation = {
  summary: string;
  body?: string | { ndjson: true };
  response?: string;
  status?: number;
  admin?: boolean;
  query?: string[];
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Every route of the API: the OpenAPI document is built from this table and the contracts. */
const ROUTES: Record<string, Record<string, Operation>> = {
  "/v1/accounts/{id}": {
    put: { summary: "Create or replace an account (evaluated at once)", body: "AccountPut", status: 200 },
    get: { summary: "An account document and its version" },
    delete: { summary: "Delete an account, its state and its trigger bands", status: 204 },
  },
  "/v1/accounts/import": {
    post: {
      summary: "Bulk import: NDJSON, one account per line; bad lines are reported, the rest imported",
      body: { ndjson: true },
      response: "ImportResult",
    },
  },
  "/v1/unwatched": {
    get: {
      summary:
        "Stored accounts the engine cannot evaluate now (an asset unpriced, an instrument expired), as the last sweep found them",
      query: ["venue"],
    },
  },
  "/v1/accounts/{id}/risk": {
    get: { summary: "The stored state and an evaluation at the latest prices, with the explain trace" },
  },
  "/v1/prices": {
    post: {
      summary:
        "One price event or a batch: ingest and recompute what the move can change; each event's outcome (422 when none was applied)",
      body: "PriceEventBatch",
      response: "PriceIngestResult",
      status: 202,
      admin: true,
    },
  },
  "/v1/funding": {
    post: {
      summary:
        "One funding print or a batch (DESIGN §3.10): the venue's cumulative funding moves and the accounts exposed to the asset are re-evaluated; a venue key posts its own venue's",
      body: "FundingEventBatch",
      status: 202,
    },
  },
  "/v1/depth": {
    post: {
      summary:
        "Order-book snapshots (DESIGN §3.11), one or a list: the latest per asset is kept for the scheduled stress and exposure jobs; an older one than the stored is refused (409 when all are)",
      body: "DepthSnapshot|DepthSnapshotList",
      status: 201,
      admin: true,
    },
    get: { summary: "The latest stored order-book snapshot per asset" },
  },
  "/v1/evaluate": {
    post: {
      summary:
        "What-if: a portfolio document (as `backing evaluate`), or a stored account with some prices replaced",
      body: "PortfolioDocument|StoredWhatIf",
      response: "EvaluationOutput",
      query: ["explain"],
    },
  },
  "/v1/params": {
    get: { summary: "The current risk parameter set", response: "RiskParamsDocument" },
    put: {
      summary: "Put a new parameter set (kept by version for explain)",
      body: "RiskParamsDocument",
      admin: true,
    },
  },
  "/v1/keys": {
    post: {
      summary: "Create an API key for a venue (or another admin key); shown once",
      body: "ApiKeyCreate",
      status: 201,
      admin: true,
    },
  },
  "/v1/reports/{kind}/latest": {
    get: {
      summary:
        "The latest report's summary: book-wide for operators; a venue key gets its own venue's exposure report",
    },
  },
  "/v1/reports/{kind}/{id}": {
    get: {
      summary:
        "A report: exposure as json, html or csv (?file=<table>), a venue key its own venue's; stress (operators) as json",
      query: ["format", "file"],
    },
  },
  "/v1/endpoints": {
    get: { summary: "The venue's webhook endpoints", query: ["venue"] },
    post: {
      summary: "Register a webhook endpoint (SSRF-checked); the signing secret is returned once",
      body: "EndpointCreate",
      response: "Endpoint",
      status: 201,
    },
  },
  "/v1/endpoints/{id}": {
    get: { summary: "One endpoint", response: "Endpoint" },
    patch: {
      summary: "Enable, disable or change the types of an endpoint",
      body: "EndpointPatch",
      response: "Endpoint",
    },
    delete: { summary: "Delete an endpoint", status: 204 },
  },
  "/v1/endpoints/{id}/rotate": {
    post: {
      summary: "Rotate the signing secret; the old one signs alongside for the overlap",
      body: "SecretRotation",
      response: "Endpoint",
    },
  },
  "/v1/notifications": {
    get: { summary: "The venue's notifications, newest first", query: ["venue", "limit", "before"] },
  },
  "/v1/notifications/{id}": { get: { summary: "A notification, its payload and its deliveries" } },
  "/v1/notifications/{id}/redeliver": {
    post: { summary: "Send a notification's webhooks again (same webhook-id)", status: 202 },
  },
  "/v1/notifications/{id}/explain": {
    get: { summary: "Re-run the notification's evaluation and compare every figure" },
  },
};

function requestBody(body: Operation["body"]) {
  if (body === undefined) return {};
  if (typeof body === "object")
    return {
      requestBody: { required: true, content: { "application/x-ndjson": { schema: { type: "string" } } } },
    };
  const names = body.split("|");
  const schema = names.length === 1 ? ref(names[0] as string) : { oneOf: names.map(ref) };
  return { requestBody: { required: true, content: { "application/json": { schema } } } };
}

/** The OpenAPI 3.1 document of the API, generated from the contracts (checked in as docs/openapi.json). */
export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, operations] of Object.entries(ROUTES)) {
    const parameters = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    paths[path] = {};
    for (const [method, op] of Object.entries(operations)) {
      const status = String(op.status ?? 200);
      (paths[path] as Record<string, unknown>)[method] = {
        summary: op.summary,
        ...(op.admin ? { description: "Operators only (admin key)." } : {}),
        parameters: [
          ...parameters,
          ...(op.query ?? []).map((name) => ({
            name,
            in: "query",
            required: false,
            schema: { type: "string" },
          })),
        ],
        ...requestBody(op.body),
        responses: {
          [status]:
            status === "204"
              ? { description: "Done" }
              : {
                  description: "OK",
                  content: {
                    "application/json": { schema: op.response ? ref(op.response) : { type: "object" } },
                  },
                },
          default: {
            description: "An RFC 9457 problem",
            content: { "application/problem+json": { schema: ref("Problem") } },
          },
        },
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Backing API",
      version: "1",
      description:
        "Collateral adequacy, margin calls and reports for crypto derivatives books. Every route needs `Authorization: Bearer <api key>`; a venue's key sees only its venue.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: Object.fromEntries(
        Object.entries(COMPONENTS).map(([name, { schema, io }]) => [
          name,
          z.toJSONSchema(schema, { io, unrepresentable: "any" }),
        ]),
      ),
    },
  };
}
