import { createTableInput, SST_TABLE_ARGS } from "@backing/dynamo";
import { describe, expect, it } from "vitest";

describe("the one table definition", () => {
  it("gives the local CreateTable input and the SST component the same keys, index and stream", () => {
    const input = createTableInput("t");
    expect(input.KeySchema).toEqual([
      { AttributeName: SST_TABLE_ARGS.primaryIndex.hashKey, KeyType: "HASH" },
      { AttributeName: SST_TABLE_ARGS.primaryIndex.rangeKey, KeyType: "RANGE" },
    ]);
    const [gsi] = input.GlobalSecondaryIndexes ?? [];
    expect(gsi?.IndexName).toBe("gsi1");
    expect(gsi?.KeySchema?.map((k) => k.AttributeName)).toEqual([
      SST_TABLE_ARGS.globalIndexes.gsi1.hashKey,
      SST_TABLE_ARGS.globalIndexes.gsi1.rangeKey,
    ]);
    expect(input.AttributeDefinitions?.map((a) => a.AttributeName).sort()).toEqual(
      Object.keys(SST_TABLE_ARGS.fields).sort(),
    );
    expect(input.StreamSpecification?.StreamViewType?.toLowerCase().replaceAll("_", "-")).toBe(
      SST_TABLE_ARGS.stream,
    );
  });
});
