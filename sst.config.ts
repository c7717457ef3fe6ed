/// <reference path="./.sst/platform/config.d.ts" />

// DESIGN §6. The table (keys, index, stream) comes from the same module the local runtime and the
// tests use. The price-event bus, recompute queue, CronV2 jobs and the notify/API functions join
// as their issues land.
export default $config({
  app(input) {
    return {
      name: "backing",
      removal: input?.stage === "production" ? "retain" : "remove",
      home: "aws",
    };
  },
  async run() {
    const { SST_TABLE_ARGS } = await import("./packages/dynamo/src/table-definition.ts");
    const table = new sst.aws.Dynamo("Risk", SST_TABLE_ARGS);
    return { table: table.name };
  },
});
