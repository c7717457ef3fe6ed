/** Every key of the single table, built in one place. */

/** Exposure index items are spread over shards so no asset's partition runs hot (reference §5.2). */
export const EXPOSURE_SHARDS = 8;

/**
 * Accounts (in the account index) and their risk states are spread over more shards: every status
 * change writes a state, and a crash changes many at once (reference §5.2: ≤ 1,000 WCU/s a partition).
 */
export const ACCOUNT_SHARDS = 16;

function shardOf(accountId: string, shards = EXPOSURE_SHARDS): number {
  let hash = 2166136261;
  for (let i = 0; i < accountId.length; i++) hash = Math.imul(hash ^ accountId.charCodeAt(i), 16777619);
  return (hash >>> 0) % shards;
}

const PRICE_DECIMALS = 20;

/**
 * A non-negative decimal string as a fixed-width string that sorts like the number: 24 integer
 * digits, 20 decimals. Rounded toward the inside of a band when it has more decimals (a low edge
 * up, a high edge down), so the index never makes a band wider.
 */
export function sortablePrice(value: string, rounding: "up" | "down" | "exact" = "exact"): string {
  const [whole = "0", fraction = ""] = value.split(".");
  let digits = fraction.padEnd(PRICE_DECIMALS, "0");
  let integer = BigInt(whole);
  if (digits.length > PRICE_DECIMALS) {
    const cut = digits.slice(PRICE_DECIMALS);
    digits = digits.slice(0, PRICE_DECIMALS);
    if (rounding === "up" && /[1-9]/.test(cut)) {
      const scaled = integer * 10n ** BigInt(PRICE_DECIMALS) + BigInt(digits) + 1n;
      integer = scaled / 10n ** BigInt(PRICE_DECIMALS);
      digits = String(scaled % 10n ** BigInt(PRICE_DECIMALS)).padStart(PRICE_DECIMALS, "0");
    }
  }
  return `${String(integer).padStart(24, "0")}.${digits}`;
}

/** The decimal string of a sortablePrice (leading and trailing zeros dropped). */
export function unsortablePrice(sortable: string): string {
  const [whole = "0", fraction = ""] = sortable.split(".");
  const integer = whole.replace(/^0+(?=\d)/, "");
  const decimals = fraction.replace(/0+$/, "");
  return decimals ? `${integer}.${decimals}` : integer;
}

export const keys = {
  account: (id: string) => ({ pk: `ACCOUNT#${id}`, sk: "BOOK" }),
  /**
   * Every account document is also in gsi2 under `ACCOUNTS#<shard>` (sparse: only account items),
   * so whole-book jobs read accounts by Query instead of scanning every item of the table.
   */
  accountIndex: (id: string) => ({ gsi2pk: `ACCOUNTS#${shardOf(id, ACCOUNT_SHARDS)}`, gsi2sk: id }),
  accountsPartition: (shard: number) => `ACCOUNTS#${shard}`,
  /**
   * Risk states live in the same shards as the account index, sorted by account id like it: the
   * sweep reads a shard's accounts and states as two Queries merged by id (no read by key per
   * account, no index write per state), and a tick still reads a state by key.
   */
  riskState: (id: string) => ({ pk: `RISKSTATES#${shardOf(id, ACCOUNT_SHARDS)}`, sk: id }),
  riskStatesPartition: (shard: number) => `RISKSTATES#${shard}`,
  exposure: (asset: string, accountId: string) => ({
    pk: `EXPOSURE#${asset}#${shardOf(accountId)}`,
    sk: `ACCOUNT#${accountId}`,
  }),
  exposurePartition: (asset: string, shard: number) => `EXPOSURE#${asset}#${shard}`,
  /**
   * The trigger band of an account on an asset lives on its exposure item, indexed by its low edge
   * (gsi1) and its high edge (gsi2) in the same shards. No band (re-evaluate on any move): a low
   * edge above every price ("~") in gsi1 only. A tick's gsi1 query finds it on any move, so a
   * second entry in gsi2 would only cost an indexed write per exposure item (a fifth of a seed's
   * index writes on DynamoDB Local); items written before carry a "!" there, still read as none.
   */
  band: (asset: string, accountId: string, low: string | null, high: string | null) => {
    const shard = shardOf(accountId);
    if (low === null || high === null) return { gsi1pk: `BANDLO#${asset}#${shard}`, gsi1sk: "~" };
    // An edge that no price can cross (low 0, high Infinity) is left out of its index: one
    // indexed write fewer, and a range query could never have matched it.
    return {
      ...(low === "0" ? {} : { gsi1pk: `BANDLO#${asset}#${shard}`, gsi1sk: sortablePrice(low, "up") }),
      ...(high === "Infinity"
        ? {}
        : { gsi2pk: `BANDHI#${asset}#${shard}`, gsi2sk: sortablePrice(high, "down") }),
    };
  },
  bandLowPartition: (asset: string, shard: number) => `BANDLO#${asset}#${shard}`,
  bandHighPartition: (asset: string, shard: number) => `BANDHI#${asset}#${shard}`,
  /** All assets' price records share one partition: one Query reads every latest price. */
  pricesPartition: "PRICES",
  price: (asset: string) => ({ pk: "PRICES", sk: `ASSET#${asset}` }),
  priceEvent: (eventId: string) => ({ pk: `PRICE_EVENT#${eventId}`, sk: "EVENT" }),
  /** Cumulative funding per venue and asset: one partition, read whole with the prices. */
  fundingPartition: "FUNDING",
  funding: (venue: string, asset: string) => ({ pk: "FUNDING", sk: `${venue}#${asset}` }),
  fundingEvent: (eventId: string) => ({ pk: `FUNDING_EVENT#${eventId}`, sk: "EVENT" }),
  /** The latest order-book snapshot per asset: one partition, read whole by the scheduled jobs. */
  depthPartition: "DEPTH",
  depth: (asset: string) => ({ pk: "DEPTH", sk: `ASSET#${asset}` }),
  snapshot: (id: string) => ({ pk: `SNAPSHOT#${id}`, sk: "SNAPSHOT" }),
  notification: (id: string) => ({ pk: `NOTIFICATION#${id}`, sk: "NOTIFICATION" }),
  notificationByVenue: (venue: string, createdAtMs: number, id: string) => ({
    gsi1pk: `VENUE#${venue}#NOTIFICATIONS`,
    gsi1sk: `${new Date(createdAtMs).toISOString()}#${id}`,
  }),
  /**
   * An open episode, as a sparse index entry on the account's risk-state item (gsi1): the expiry
   * job reads the due ones in deadline order, and the state write carries no extra item.
   */
  openEpisode: (deadlineMs: number, accountId: string) => ({
    gsi1pk: "OPEN_EPISODES",
    gsi1sk: `${String(deadlineMs).padStart(15, "0")}#${accountId}`,
  }),
  params: { pk: "PARAMS", sk: "CURRENT" },
  report: (kind: string, createdAtMs: number, id: string) => ({
    pk: `REPORTS#${kind}`,
    sk: `${new Date(createdAtMs).toISOString()}#${id}`,
  }),
  paramsVersion: (version: string) => ({ pk: "PARAMS", sk: `VERSION#${version}` }),
  endpoint: (venue: string, id: string) => ({ pk: `VENUE#${venue}`, sk: `ENDPOINT#${id}` }),
  /** A notification's deliveries live in its partition: one Query reads the item and all of them. */
  delivery: (notificationId: string, endpointId: string) => ({
    pk: `NOTIFICATION#${notificationId}`,
    sk: `DELIVERY#${endpointId}`,
  }),
  /** Pending deliveries sorted by when they are due; parked ones apart. Absent once delivered. */
  deliveryIndex: (state: "DUE" | "FAILED", atMs: number, notificationId: string, endpointId: string) => ({
    gsi1pk: `DELIVERIES#${state}`,
    gsi1sk: `${String(atMs).padStart(15, "0")}#${notificationId}#${endpointId}`,
  }),
  /** An API key by the SHA-256 of its secret: the key itself is never stored. */
  apiKey: (hash: string) => ({ pk: `APIKEY#${hash}`, sk: "APIKEY" }),
  /** The accounts the engine cannot evaluate: one partition, a few items (a sweep reads it whole). */
  unwatched: (accountId: string) => ({ pk: "UNWATCHED", sk: accountId }),
  lane: (endpointId: string, accountId: string) => ({ pk: `LANE#${endpointId}#${accountId}`, sk: "LANE" }),
  /** A lane with a head, in gsi1 by the end of the head's lease (the redeliver job's `expiredLanes`). */
  laneLease: (leaseUntilMs: number, endpointId: string, accountId: string) => ({
    gsi1pk: keys.LANES_HELD,
    gsi1sk: `${String(leaseUntilMs).padStart(15, "0")}#${endpointId}#${accountId}`,
  }),
  LANES_HELD: "LANES#HELD",
  /** The one lease that keeps two sharded sweeps from overlapping. */
  sweepLease: { pk: "LEASE#SWEEP", sk: "LEASE" },
  /** When the last full sweep started, and under which params (the coordinator's choice of mode). */
  lastFullSweep: { pk: "LEASE#SWEEP", sk: "LASTFULL" },
  /** A sharded sweep's run and its segments' reports share a partition: one Query reads them. */
  sweepRun: (id: string) => ({ pk: `SWEEP#${id}`, sk: "RUN" }),
  sweepSegment: (id: string, segment: number) => ({
    pk: `SWEEP#${id}`,
    sk: `SEGMENT#${String(segment).padStart(5, "0")}`,
  }),
  /** A sharded job's run and its segments' pass reports share a partition: one Query counts them. */
  jobRun: (id: string) => ({ pk: `JOB#${id}`, sk: "RUN" }),
  jobSegment: (id: string, pass: number, segment: number) => ({
    pk: `JOB#${id}`,
    sk: `${jobPassPrefix(pass)}${String(segment).padStart(5, "0")}`,
  }),
  streamCheckpoint: (streamArn: string, shardId: string) => ({
    pk: `STREAM#${streamArn}`,
    sk: `SHARD#${shardId}`,
  }),
};

/** The sort-key prefix of a job pass's segment reports. */
export const jobPassPrefix = (pass: number) => `PASS#${String(pass).padStart(4, "0")}#`;
