import { runTickOrFanOut } from "@backing/engine";
import type { EventBridgeEvent } from "aws-lambda";
import { logPriceOutcomes, observed, transitions } from "./observability.ts";
import { priceEventWiring } from "./wiring.ts";

/**
 * Price events from the EventBridge bus (`detail`: one price event or a batch): ingest, find the
 * accounts whose trigger bands the tick leaves, recompute them inline or fan out shard tasks.
 */
export async function handler(event: EventBridgeEvent<string, unknown>) {
  const { triggered, queued, recompute } = await observed(
    "price-event",
    () => runTickOrFanOut(event.detail, priceEventWiring()),
    (r) => ({
      ...logPriceOutcomes(r.outcomes),
      Ticks: 1,
      AccountsTriggered: r.triggered,
      ShardTasksQueued: r.queued,
      AccountsEvaluated: r.recompute?.evaluated ?? 0,
      Transitions: transitions(r.recompute?.notifications ?? {}),
    }),
  );
  return { triggered, queued, evaluated: recompute?.evaluated ?? 0, written: recompute?.written ?? 0 };
}
