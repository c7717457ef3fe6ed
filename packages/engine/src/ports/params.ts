import type { RiskParamsDocument } from "@backing/contracts";

/** The risk parameter sets: the current one, and every one put, by version (for explain). */
export interface ParamsRepository {
  getParams(): Promise<RiskParamsDocument | null>;
  /** A params set as it was under a version (every set put is kept by version). */
  getParamsVersion(version: string): Promise<RiskParamsDocument | null>;
  putParams(document: RiskParamsDocument): Promise<void>;
}
