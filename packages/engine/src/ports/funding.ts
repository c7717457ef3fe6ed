/** Cumulative funding F of one venue and underlying (DESIGN §3.10): USD per unit of base, as stored. */
export interface FundingRecord {
  venue: string;
  asset: string;
  cumulative: string;
  /** The last print's rate per interval (the exposure report's "latest rate"). */
  rate?: string;
  /** The last applied event's funding time and id: older events are refused, its repeat is a duplicate. */
  fundingTimeMs: number;
  eventId: string;
}

export type FundingWriteResult = "applied" | "duplicate" | "conflict";

export interface FundingRepository {
  getFunding(): Promise<FundingRecord[]>;
  /**
   * Records `next.eventId` as seen and makes `next` the record of its venue and asset, atomically,
   * conditional on the record still being `previous` (null: none yet).
   */
  applyFunding(next: FundingRecord, previous: FundingRecord | null): Promise<FundingWriteResult>;
}
