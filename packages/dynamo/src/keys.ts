/** Every key of the single table, built in one place. */

/** Exposure index items are spread over shards so no asset's partition runs hot (reference §5.2). */
export const EXPOSURE_SHARDS = 8;

function shardOf(accountId: string): number {
  let hash = 2166136261;
  for (let i = 0; i < accountId.length; i++) hash = Math.imul(hash ^ accountId.charCodeAt(i), 16777619);
  return (hash >>> 0) % EXPOSURE_SHARDS;
}

export const keys = {
  account: (id: string) => ({ pk: `ACCOUNT#${id}`, sk: "BOOK" }),
  riskState: (id: string) => ({ pk: `ACCOUNT#${id}`, sk: "RISK" }),
  exposure: (asset: string, accountId: string) => ({
    pk: `EXPOSURE#${asset}#${shardOf(accountId)}`,
    sk: `ACCOUNT#${accountId}`,
  }),
  exposurePartition: (asset: string, shard: number) => `EXPOSURE#${asset}#${shard}`,
  /** All assets' price records share one partition: one Query reads every latest price. */
  pricesPartition: "PRICES",
  price: (asset: string) => ({ pk: "PRICES", sk: `ASSET#${asset}` }),
  priceEvent: (eventId: string) => ({ pk: `PRICE_EVENT#${eventId}`, sk: "EVENT" }),
  snapshot: (id: string) => ({ pk: `SNAPSHOT#${id}`, sk: "SNAPSHOT" }),
  notification: (id: string) => ({ pk: `NOTIFICATION#${id}`, sk: "NOTIFICATION" }),
  notificationByVenue: (venue: string, createdAtMs: number, id: string) => ({
    gsi1pk: `VENUE#${venue}#NOTIFICATIONS`,
    gsi1sk: `${new Date(createdAtMs).toISOString()}#${id}`,
  }),
  /** Open episodes sorted by deadline, so the expiry job reads only the due ones. */
  openEpisode: (deadlineMs: number, accountId: string) => ({
    pk: "OPEN_EPISODES",
    sk: `${String(deadlineMs).padStart(15, "0")}#${accountId}`,
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
  lane: (endpointId: string, accountId: string) => ({ pk: `LANE#${endpointId}#${accountId}`, sk: "LANE" }),
  streamCheckpoint: (streamArn: string, shardId: string) => ({
    pk: `STREAM#${streamArn}`,
    sk: `SHARD#${shardId}`,
  }),
};
