/** Price events in: validated, guarded (DESIGN §3.6) and recorded as each asset's latest or held price. */
import { issuesFromZod, type PriceEvent, PriceEventBatch } from "@backing/contracts";
import { Decimal, guardPrice, type PriceUpdate, priceGuardParams } from "@backing/core";
import { currentParams } from "./current-params.ts";
import type { EngineDeps } from "./deps.ts";
import { PriceEventInputError } from "./errors.ts";
import type { PriceRecord, PriceUpdateWrite, StoredPrice } from "./ports/index.ts";

export type IngestOutcome =
  | "accepted"
  | "confirmed-jump"
  | "held"
  | "stale"
  | "future"
  | "out-of-order"
  | "duplicate";

export interface IngestResult {
  outcomes: { eventId: string; asset: string; outcome: IngestOutcome }[];
  /** Assets whose latest price moved: their exposed accounts need a recompute. */
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
  const outcomes = new Map<PriceEvent, IngestResult["outcomes"][number]>();
  const settle = (event: PriceEvent, outcome: IngestOutcome) =>
    outcomes.set(event, { eventId: event.eventId, asset: event.asset, outcome });
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
        const record: PriceRecord = records.get(event.asset) ?? { latest: null, held: null };
        if (record.latest?.eventId === update.eventId || record.held?.eventId === update.eventId) {
          settle(event, "duplicate");
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
          settle(event, verdict.reason);
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
        settle(event, "duplicate");
        continue;
      }
      settle(event, verdict === "hold" ? "held" : jump ? "confirmed-jump" : "accepted");
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
  ingested.outcomes = events.map((event) => outcomes.get(event) as IngestResult["outcomes"][number]);
  return ingested;
}
