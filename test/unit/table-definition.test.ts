import { createTableInput, SST_TABLE_ARGS } from "@backing/dynamo";
import { describe, expect, it } from "vitest";

describe("the one table definition", () => {
  it("gives the local CreateTable input and the SST component the same keys, index and stream", () => {
    const input = createTableInput("t");
    expect(input.KeySchema).toEqual([
      { AttributeName: SST_TABLE_ARGS.primaryIndex.hashKey, KeyType: "HASH" },
      { AttributeName: SST_TABLE_ARGS.primaryIndex.rangeKey, KeyType: "RANGE" },
    ]);
    const indexes = input.GlobalSecondaryIndexes ?? [];
    expect(indexes.map((i) => i.IndexName)).toEqual(Object.keys(SST_TABLE_ARGS.globalIndexes));
    for (const index of indexes) {
      const sst = SST_TABLE_ARGS.globalIndexes[index.IndexName as keyof typeof SST_TABLE_ARGS.globalIndexes];
      expect(index.KeySchema?.map((k) => k.AttributeName)).toEqual([sst.hashKey, sst.rangeKey]);
    }
    expect(input.AttributeDefinitions?.map((a) => a.AttributeName).sort()).toEqual(
      Object.keys(SST_TABLE_ARGS.fields).sort(),
    );
    expect(input.StreamSpecification?.StreamViewType?.toLowerCase().replaceAll("_", "-")).toBe(
      SST_TABLE_ARGS.stream,
    );
  });
});
