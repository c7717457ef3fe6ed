/**
 * Funding prints in (DESIGN §3.10): each raises its venue's cumulative funding F for the asset by
 * `rate × price`; the accounts exposed to the asset are then re-evaluated (a print changes equity
 * without moving a price), inline or as shard tasks on the recompute queue.
 */
import { type FundingEvent, FundingEventBatch, issuesFromZod } from "@backing/contracts";
import { Decimal } from "@backing/core";
import type { EngineDeps } from "./deps.ts";
import { FundingEventInputError } from "./errors.ts";
import type { FundingRecord, PriceRecord } from "./ports/index.ts";
import type { RecomputeResult } from "./recompute/index.ts";
import { addSweepTotals, noSweepTotals } from "./sweep.ts";
import { recomputeOrFanOut, type TaskQueue } from "./tick.ts";

export interface FundingOutcome {
  eventId: string;
  venue: string;
  asset: string;
  outcome: "applied" | "duplicate";
  /** F after the event (applied ones). */
  cumulative?: string;
}

/**
 * Validates the whole request first: a malformed event, one older than the venue's last funding
 * time for its asset, or one with no price to settle at refuses the request, naming the event's
 * path, and nothing is written. Then applies each event once (idempotent by eventId).
 */
export async function ingestFunding(
  input: unknown,
  deps: EngineDeps,
): Promise<{ outcomes: FundingOutcome[]; moved: { venue: string; asset: string }[] }> {
  const parsed = FundingEventBatch.safeParse(input);
  if (!parsed.success) throw new FundingEventInputError(issuesFromZod(parsed.error));
  const batch = Array.isArray(parsed.data);
  const events: FundingEvent[] = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  // The latest marks are read only for prints that name no settlement price.
  const [stored, prices] = await Promise.all([
    deps.store.getFunding(),
    events.some((e) => e.price === undefined) ? deps.store.getPrices() : new Map<string, PriceRecord>(),
  ]);
  const records = new Map(stored.map((f) => [`${f.venue}#${f.asset}`, f]));
  const issues: { path: string; message: string }[] = [];
  const plan: { event: FundingEvent; next: FundingRecord | null; previous: FundingRecord | null }[] = [];
  for (const [i, event] of events.entries()) {
    const at = (field: string) => `${batch ? `[${i}].` : ""}${field}`;
    const key = `${event.venue}#${event.asset}`;
    const previous = records.get(key) ?? null;
    const timeMs = Date.parse(event.fundingTime);
    if (previous?.eventId === event.eventId) {
      plan.push({ event, next: null, previous });
      continue;
    }
    if (previous && timeMs < previous.fundingTimeMs) {
      issues.push({
        path: at("fundingTime"),
        message: `older than the last funding of ${event.venue} ${event.asset} (event ${previous.eventId} at ${new Date(previous.fundingTimeMs).toISOString()})`,
      });
      continue;
    }
    const price = event.price ?? prices.get(event.asset)?.latest?.mark;
    if (price === undefined) {
      issues.push({
        path: at("price"),
        message: `no price to settle at: give price, or post a price for ${event.asset} first`,
      });
      continue;
    }
    const next: FundingRecord = {
      venue: event.venue,
      asset: event.asset,
      cumulative: new Decimal(previous?.cumulative ?? "0")
        .plus(new Decimal(event.rate).times(price))
        .toFixed(),
      fundingTimeMs: timeMs,
      eventId: event.eventId,
      rate: event.rate,
    };
    records.set(key, next);
    plan.push({ event, next, previous });
  }
  if (issues.length > 0) throw new FundingEventInputError(issues);

  const outcomes: FundingOutcome[] = [];
  const moved = new Map<string, { venue: string; asset: string }>();
  const move = (event: FundingEvent) =>
    moved.set(`${event.venue}#${event.asset}`, { venue: event.venue, asset: event.asset });
  for (const { event, next, previous } of plan) {
    const base = { eventId: event.eventId, venue: event.venue, asset: event.asset };
    const written = next ? await deps.store.applyFunding(next, previous) : "duplicate";
    if (written === "conflict")
      throw new Error(
        `funding of ${event.venue} ${event.asset} changed concurrently: send ${event.eventId} again`,
      );
    if (written === "duplicate" || !next) {
      outcomes.push({ ...base, outcome: "duplicate" });
      // A repeat of the last print re-runs its recompute, as a repeated price event does.
      if (previous?.eventId === event.eventId) move(event);
      continue;
    }
    outcomes.push({ ...base, outcome: "applied", cumulative: next.cumulative });
    move(event);
  }
  return { outcomes, moved: [...moved.values()] };
}

/**
 * The funding handler's job: ingest the prints, then recompute, per venue and asset printed, the
 * venue's accounts whose perps on the asset settle against F (the index finds the accounts exposed
 * to the asset; the recompute keeps those), inline or as shard tasks.
 */
export async function runFundingOrFanOut(
  input: unknown,
  deps: EngineDeps & { queue?: TaskQueue },
  options: { batch?: number } = {},
) {
  const { outcomes, moved } = await ingestFunding(input, deps);
  let accounts = 0;
  let queued = 0;
  const totals = noSweepTotals();
  let recomputed = false;
  for (const settlingOn of moved) {
    const ids = await deps.store.exposedAccountIds(settlingOn.asset);
    accounts += ids.length;
    const reason = `funding ${settlingOn.venue} ${settlingOn.asset}`;
    const step = await recomputeOrFanOut(ids, reason, deps, options.batch, settlingOn);
    queued += step.queued;
    if (step.recompute) {
      addSweepTotals(totals, { ...step.recompute, accounts: 0 });
      recomputed = true;
    }
  }
  const recompute: RecomputeResult | null = recomputed ? totals : null;
  return { outcomes, accounts, queued, recompute };
}
