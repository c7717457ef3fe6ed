/** What the engine jobs run on: the store, the clock and the configured volatilities. */
import type { EngineStore } from "./ports/index.ts";

export interface EngineDeps {
  store: EngineStore;
  /** Injected clock (ms since epoch): the replay passes event time. */
  now: () => number;
  /**
   * Implied volatility per underlying for marking options without a markPrice (Black-76). Price
   * events carry no volatility, so it is configuration until a volatility feed exists.
   */
  volatility?: Record<string, string>;
}
