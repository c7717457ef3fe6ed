import { runFundingOrFanOut } from "@backing/engine";
import type { EventBridgeEvent } from "aws-lambda";
import { logger, observed, transitions } from "./observability.ts";
import { fundingEventWiring } from "./wiring.ts";

/**
 * Funding prints from the EventBridge bus (detail type `backing.funding`; `detail`: one funding
 * event or a batch): the venue's cumulative funding moves, and the accounts exposed to the asset
 * are re-evaluated inline or as shard tasks. A refused request (malformed, out of order) throws:
 * nothing was written, and EventBridge's retries end in its DLQ.
 */
export async function handler(event: EventBridgeEvent<string, unknown>) {
  const result = await observed(
    "funding-event",
    () => runFundingOrFanOut(event.detail, fundingEventWiring()),
    (r) => ({
      FundingPrints: r.outcomes.filter((o) => o.outcome === "applied").length,
      FundingDuplicates: r.outcomes.filter((o) => o.outcome === "duplicate").length,
      AccountsTriggered: r.accounts,
      ShardTasksQueued: r.queued,
      AccountsEvaluated: r.recompute?.evaluated ?? 0,
      Transitions: transitions(r.recompute?.notifications ?? {}),
    }),
  );
  for (const o of result.outcomes) logger.info("funding print", { ...o });
  return { outcomes: result.outcomes, accounts: result.accounts, queued: result.queued };
}
