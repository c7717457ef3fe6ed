/** The last accepted (or held) price of an asset; decimals as strings, as stored. */
export interface StoredPrice {
  asset: string;
  index: string;
  mark: string;
  timestampMs: number;
  sequence: number | null;
  source: string;
  eventId: string;
  /** The latest implied volatility given for the asset (carried from earlier events when this one has none). */
  volatility?: string;
}

export interface PriceRecord {
  latest: StoredPrice | null;
  /** A jump larger than maxJump waiting for confirmation. */
  held: StoredPrice | null;
}

export interface PriceSnapshot {
  id: string;
  prices: Record<string, { index: string; mark: string; timestampMs: number; volatility?: string }>;
  /** Cumulative funding F per venue and underlying at the snapshot (DESIGN §3.10); absent: none. */
  funding?: Record<string, Record<string, string>>;
}

/** One price event's write: the update, what it does, and the record it was decided against. */
export interface PriceUpdateWrite {
  update: StoredPrice;
  action: "accept" | "hold";
  previous: PriceRecord;
}

export type PriceWriteResult = "applied" | "duplicate" | "conflict";

/** The latest (and held) price of every asset, the events seen, and the snapshots evaluated at. */
export interface PriceRepository {
  getPrices(): Promise<Map<string, PriceRecord>>;
  /**
   * For each update (at most one per asset), records `update.eventId` as seen and, atomically,
   * makes `update` the asset's latest price ("accept") or its held price ("hold"), conditional on
   * the record still being `previous`. Each is all-or-nothing on its own; the store may send them
   * together. Results in the order given.
   */
  applyPriceUpdates(updates: readonly PriceUpdateWrite[]): Promise<PriceWriteResult[]>;
  putSnapshot(snapshot: PriceSnapshot): Promise<void>;
}
