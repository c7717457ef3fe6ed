/** The current risk parameter set, built once per version. */
import type { RiskParamsDocument } from "@backing/contracts";
import { buildRiskParams, DEFAULT_RISK_PARAMS, type RiskParams } from "@backing/core";
import type { EngineStore } from "./ports/index.ts";

export const paramsCache = new Map<string, RiskParams>();

export async function currentParams(store: EngineStore): Promise<RiskParams> {
  const document: RiskParamsDocument = (await store.getParams()) ?? DEFAULT_RISK_PARAMS;
  const key = JSON.stringify(document);
  let params = paramsCache.get(key);
  if (!params) {
    params = buildRiskParams(document);
    paramsCache.set(key, params);
  }
  return params;
}
