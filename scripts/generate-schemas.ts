/**
 * Writes the JSON Schema of every contract to docs/schemas/. With --check, fails (exit 1) when a
 * checked-in file differs from what the contracts generate, so CI catches a stale schema.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openApiDocument } from "@backing/api";
import {
  DepthSnapshot,
  EvaluationOutput,
  ExposureReport,
  FundingEventBatch,
  MarginNotificationPayload,
  PortfolioDocument,
  PriceEventBatch,
  ReplayReport,
  RiskParamsDocument,
  ScenarioPack,
  StressReport,
  WebhookPayload,
} from "@backing/contracts";
import { z } from "zod";

const SCHEMAS: Record<string, { schema: z.ZodType; io: "input" | "output" }> = {
  "portfolio-document": { schema: PortfolioDocument, io: "input" },
  "risk-params": { schema: RiskParamsDocument, io: "input" },
  "evaluation-output": { schema: EvaluationOutput, io: "output" },
  "price-event": { schema: PriceEventBatch, io: "input" },
  "funding-event": { schema: FundingEventBatch, io: "input" },
  "depth-snapshot": { schema: DepthSnapshot, io: "input" },
  "margin-notification": { schema: MarginNotificationPayload, io: "output" },
  "scenario-pack": { schema: ScenarioPack, io: "input" },
  "stress-report": { schema: StressReport, io: "output" },
  "exposure-report": { schema: ExposureReport, io: "output" },
  "replay-report": { schema: ReplayReport, io: "output" },
  "webhook-payload": { schema: WebhookPayload, io: "output" },
};

const directory = join(import.meta.dirname, "..", "docs", "schemas");
const check = process.argv.includes("--check");
const stale: string[] = [];

for (const [name, { schema, io }] of Object.entries(SCHEMAS)) {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  const text = `${JSON.stringify({ $id: `https://backing.dev/schemas/${name}.json`, ...json }, null, 2)}\n`;
  const path = join(directory, `${name}.json`);
  if (check) {
    const current = await readFile(path, "utf8").catch(() => "");
    if (current !== text) stale.push(path);
  } else {
    await writeFile(path, text);
  }
}

// The HTTP API's OpenAPI document, built from the same contracts.
const openapi = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
const openapiPath = join(directory, "..", "openapi.json");
if (check) {
  if ((await readFile(openapiPath, "utf8").catch(() => "")) !== openapi) stale.push(openapiPath);
} else {
  await writeFile(openapiPath, openapi);
}

if (stale.length > 0) {
  console.error(`stale JSON Schema (run \`npm run schemas\`):\n  ${stale.join("\n  ")}`);
  process.exit(1);
}
