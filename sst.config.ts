/// <reference path="./.sst/platform/config.d.ts" />

// AWS resources (DESIGN §6): the table with its stream, the price-event bus, the recompute queue,
// the CronV2 jobs and the notify and API functions arrive with the stateful-engine issue. Until
// then the app deploys nothing; the risk core runs from the CLI.
export default $config({
  app(input) {
    return {
      name: "backing",
      removal: input?.stage === "production" ? "retain" : "remove",
      home: "aws",
    };
  },
  async run() {},
});
