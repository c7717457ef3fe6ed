/** Price events in: validated, guarded (DESIGN §3.6) and recorded as each asset's latest or held price. */
import { issuesFromZod, type PriceEvent, PriceEventBatch, type PriceEventOutcome } from "@backing/contracts";
import {
  Decimal,
  guardPrice,
  type PriceGuardParams,
  type PriceUpdate,
  priceGuardParams,
} from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import { PriceEventInputError } from "./errors.ts";
import type { PriceRecord, PriceUpdateWrite, StoredPrice } from "./ports/index.ts";

/** What became of one price event (the answer of `POST /v1/prices`, per event). */
export type EventOutcome = PriceEventOutcome;
export type IngestOutcome = EventOutcome["outcome"];

/** Metric names of the outcomes, so a feed going bad shows as a rising count. */
const OUTCOME_METRICS: Record<IngestOutcome, string> = {
  accepted: "PricesAccepted",
  held: "PricesHeld",
  stale: "PricesStale",
  duplicate: "PricesDuplicate",
  "out-of-order": "PricesOutOfOrder",
  rejected: "PricesRejected",
};

/** The outcomes counted by metric name (every name present, zeros included: an alarm sees 0, not missing data). */
export function outcomeCounts(outcomes: readonly EventOutcome[]): Record<string, number> {
  const counts = Object.fromEntries(Object.values(OUTCOME_METRICS).map((name) => [name, 0]));
  for (const { outcome } of outcomes)
    counts[OUTCOME_METRICS[outcome]] = (counts[OUTCOME_METRICS[outcome]] ?? 0) + 1;
  return counts;
}

/**
 * What to log of a request's outcomes: every event not accepted, as a warning, but a duplicate
 * (which retries produce) as info. One rule for the Lambdas and `backing serve`.
 */
export function notAppliedLogs(
  outcomes: readonly EventOutcome[],
): { level: "info" | "warn"; entry: EventOutcome }[] {
  return outcomes
    .filter((o) => o.outcome !== "accepted")
    .map((entry) => ({ level: entry.outcome === "duplicate" ? "info" : "warn", entry }));
}

/** Events that changed nothing and never will: stale, out of order, or refused. */
export const isRefused = (o: EventOutcome) =>
  o.outcome === "stale" || o.outcome === "out-of-order" || o.outcome === "rejected";

export interface IngestResult {
  outcomes: EventOutcome[];
  /**
   * Assets whose exposed accounts need a recompute: their latest price moved, or their latest
   * event came again. A repeat of the latest event re-runs its tick's recompute because the process
   * that wrote the price may have died before the recompute was durable (DESIGN §9); accounts that
   * tick already recomputed hold the price inside their bands and are not read again.
   */
  movedAssets: Set<string>;
  /** The price records as read and then written by this ingest: what its tick evaluates at. */
  prices: Map<string, PriceRecord>;
}

export const toUpdate = (price: StoredPrice): PriceUpdate => ({
  eventId: price.eventId,
  asset: price.asset,
  index: new Decimal(price.index),
  mark: new Decimal(price.mark),
  timestampMs: price.timestampMs,
  sequence: price.sequence,
  source: price.source,
});

/**
 * Ingest price events (one or a batch): validate, then per event apply the price guards of
 * DESIGN §3.6 against the stored record of its asset. Idempotent on eventId; rejected events write
 * nothing. A conditional write that loses a race with another ingest re-reads and retries.
 */
export async function ingestPriceEvents(input: unknown, deps: EngineDeps): Promise<IngestResult> {
  const parsed = PriceEventBatch.safeParse(input);
  if (!parsed.success) throw new PriceEventInputError(issuesFromZod(parsed.error));
  const events: PriceEvent[] = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  const guards = priceGuardParams(await currentParams(deps.store));
  const records = await deps.store.getPrices();
  const ingested: IngestResult = { outcomes: [], movedAssets: new Set(), prices: records };
  const outcomes = new Map<PriceEvent, EventOutcome>();
  const settle = (event: PriceEvent, outcome: IngestOutcome, reason?: string) =>
    outcomes.set(event, {
      eventId: event.eventId,
      asset: event.asset,
      outcome,
      ...(reason ? { reason } : {}),
    });
  // Events of one asset are applied in order; different assets are independent: each round
  // writes the next event of every asset together.
  const queues = new Map<string, PriceEvent[]>();
  for (const event of events) queues.set(event.asset, [...(queues.get(event.asset) ?? []), event]);
  const conflicts = new Map<PriceEvent, number>();
  for (;;) {
    const round: { event: PriceEvent; write: PriceUpdateWrite; verdict: "accept" | "hold"; jump: boolean }[] =
      [];
    for (const queue of queues.values()) {
      // Events decided without a write (duplicates, rejected ones) are settled on the spot.
      for (let event = queue[0]; event; event = queue[0]) {
        const update: StoredPrice = {
          asset: event.asset,
          index: event.index,
          mark: event.mark ?? event.index,
          timestampMs: Date.parse(event.timestamp),
          sequence: event.sequence ?? null,
          source: event.source,
          eventId: event.eventId,
        };
        const volatility = event.volatility ?? records.get(event.asset)?.latest?.volatility;
        if (volatility !== undefined) update.volatility = volatility;
        const record: PriceRecord = records.get(event.asset) ?? { latest: null, held: null };
        if (record.latest?.eventId === update.eventId) {
          settle(event, "duplicate", "the asset's latest price already: its tick's recompute runs again");
          ingested.movedAssets.add(event.asset);
          queue.shift();
          continue;
        }
        if (record.held?.eventId === update.eventId) {
          settle(event, "duplicate", "held already, waiting for a confirming update");
          queue.shift();
          continue;
        }
        const verdict = guardPrice(
          toUpdate(update),
          record.latest && toUpdate(record.latest),
          record.held && toUpdate(record.held),
          deps.now(),
          guards,
        );
        if (verdict.kind === "reject") {
          const [outcome, reason] = refusal(verdict.reason, update, record.latest, deps.now(), guards);
          settle(event, outcome, reason);
          queue.shift();
          continue;
        }
        round.push({
          event,
          write: { update, action: verdict.kind, previous: record },
          verdict: verdict.kind,
          jump: verdict.kind === "accept" && verdict.reason === "confirmed-jump",
        });
        break;
      }
    }
    if (round.length === 0) break;
    const written = await deps.store.applyPriceUpdates(round.map(({ write }) => write));
    const conflicted: string[] = [];
    for (const [i, { event, write, verdict, jump }] of round.entries()) {
      const result = written[i];
      const tries = conflicts.get(event) ?? 0;
      // Another ingest moved the record: read it again and decide this event anew.
      if (result === "conflict" && tries < 5) {
        conflicts.set(event, tries + 1);
        conflicted.push(event.asset);
        continue;
      }
      queues.get(event.asset)?.shift();
      if (result !== "applied") {
        settle(event, "duplicate", "another ingest of the same event applied it");
        continue;
      }
      if (verdict === "hold")
        settle(
          event,
          "held",
          `the mark moved more than maxJump (${guards.maxJump.toFixed()}) from the latest price: held until a second update confirms it`,
        );
      else if (jump) settle(event, "accepted", "confirms the held jump");
      else settle(event, "accepted");
      const { update, previous } = write;
      records.set(
        event.asset,
        verdict === "hold" ? { ...previous, held: update } : { latest: update, held: null },
      );
      // Only a changed price can change a status; an unchanged one only refreshes its age.
      const moved = previous.latest?.mark !== update.mark || previous.latest?.index !== update.index;
      if (verdict === "accept" && moved) ingested.movedAssets.add(event.asset);
    }
    if (conflicted.length > 0) {
      const fresh = await deps.store.getPrices();
      for (const asset of conflicted) {
        const record = fresh.get(asset);
        if (record) records.set(asset, record);
        else records.delete(asset);
      }
    }
  }
  ingested.outcomes = events.map((event) => outcomes.get(event) as EventOutcome);
  return ingested;
}

/** A refused event's outcome and the reason an operator reads in the answer and the logs. */
function refusal(
  reason: "stale" | "out-of-order" | "future",
  update: StoredPrice,
  latest: StoredPrice | null,
  nowMs: number,
  guards: PriceGuardParams,
): [IngestOutcome, string] {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")} s`;
  switch (reason) {
    case "stale":
      return [
        "stale",
        `stamped ${seconds(nowMs - update.timestampMs)} before the engine's clock, over maxPriceAgeSeconds (${guards.maxPriceAgeSeconds} s)`,
      ];
    case "future":
      return [
        "rejected",
        `future-dated: stamped ${seconds(update.timestampMs - nowMs)} after the engine's clock, over maxFutureSkewSeconds (${guards.maxFutureSkewSeconds} s)`,
      ];
    case "out-of-order":
      return [
        "out-of-order",
        `not newer than the asset's latest price (event ${latest?.eventId}, ${latest ? new Date(latest.timestampMs).toISOString() : "none"}${latest?.sequence != null ? `, sequence ${latest.sequence}` : ""})`,
      ];
  }
}
