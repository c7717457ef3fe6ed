/**
 * The one table definition, used by the local runtime and the tests (through table.ts) and by
 * sst.config.ts alike. Pure data: no SDK import, so sst.config.ts can load it.
 * Single table: every key is a string (`pk`, `sk`); `gsi1` for notifications by venue and time,
 * deliveries by due time and trigger bands by their low edge; `gsi2` for trigger bands by their
 * high edge; a stream with new and old images feeding the notify function; on-demand billing.
 */
export const TABLE = {
  partitionKey: "pk",
  sortKey: "sk",
  indexes: {
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    gsi2: { partitionKey: "gsi2pk", sortKey: "gsi2sk" },
  },
  stream: "NEW_AND_OLD_IMAGES",
} as const;

/** The same definition in the shape of `sst.aws.Dynamo`'s arguments. */
export const SST_TABLE_ARGS = {
  fields: {
    [TABLE.partitionKey]: "string",
    [TABLE.sortKey]: "string",
    [TABLE.indexes.gsi1.partitionKey]: "string",
    [TABLE.indexes.gsi1.sortKey]: "string",
    [TABLE.indexes.gsi2.partitionKey]: "string",
    [TABLE.indexes.gsi2.sortKey]: "string",
  },
  primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
  globalIndexes: {
    gsi1: { hashKey: TABLE.indexes.gsi1.partitionKey, rangeKey: TABLE.indexes.gsi1.sortKey },
    gsi2: { hashKey: TABLE.indexes.gsi2.partitionKey, rangeKey: TABLE.indexes.gsi2.sortKey },
  },
  stream: "new-and-old-images",
} as const;
