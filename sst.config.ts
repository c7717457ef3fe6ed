/// <reference path="./.sst/platform/config.d.ts" />

// DESIGN §6. The table (keys, indexes, stream) comes from the same module the local runtime and
// the tests use. Every handler in functions/ is declared here: the price-event bus and its rule,
// the recompute queue, the notify function on the table's stream, the API, and the CronV2 jobs
// (sweep, redeliver, exposure, stress); test/unit/sst-topology.test.ts checks the wiring offline.
export default $config({
  app(input) {
    return {
      name: "backing",
      // The README deploys `--stage prod`: its data must survive `sst remove`.
      removal: ["prod", "production"].includes(input?.stage ?? "") ? "retain" : "remove",
      home: "aws",
    };
  },
  async run() {
    // Every function: Lambda's Node 22 on Graviton (the code also runs on the Node 20 used locally).
    const lambda = (args: sst.aws.FunctionArgs): sst.aws.FunctionArgs => ({
      runtime: "nodejs22.x",
      architecture: "arm64",
      ...args,
    });
    const { SST_TABLE_ARGS } = await import("./packages/dynamo/src/table-definition.ts");
    const table = new sst.aws.Dynamo("Risk", SST_TABLE_ARGS);
    /**
     * A queue of tasks for a worker function on the table: partial batch responses, a bounded
     * number of concurrent workers, and a DLQ after three attempts (`<name>Failures` by default).
     */
    const taskQueue = (
      name: string,
      worker: {
        handler: string;
        timeout: sst.aws.FunctionArgs["timeout"];
        visibilityTimeout: sst.aws.QueueArgs["visibilityTimeout"];
        batchSize: number;
        maximumConcurrency: number;
        dlqName?: string;
        /** More for the worker: what it links to, its environment, and the variable naming its own queue (a worker that sends more tasks). */
        link?: sst.aws.FunctionArgs["link"];
        environment?: Record<string, $util.Input<string>>;
        ownQueueVariable?: string;
      },
    ) => {
      const failures = new sst.aws.Queue(worker.dlqName ?? `${name}Failures`);
      const queue = new sst.aws.Queue(name, {
        visibilityTimeout: worker.visibilityTimeout,
        dlq: { queue: failures.arn, retry: 3 },
      });
      queue.subscribe(
        lambda({
          handler: worker.handler,
          timeout: worker.timeout,
          memory: "1024 MB",
          link: [table, ...(worker.ownQueueVariable ? [queue] : []), ...((worker.link as unknown[]) ?? [])],
          environment: {
            BACKING_TABLE_NAME: table.name,
            ...(worker.ownQueueVariable ? { [worker.ownQueueVariable]: queue.url } : {}),
            ...worker.environment,
          },
        }),
        {
          batch: { size: worker.batchSize, partialResponses: true },
          transform: {
            eventSourceMapping: { scalingConfig: { maximumConcurrency: worker.maximumConcurrency } },
          },
        },
      );
      return queue;
    };
    const reports = new sst.aws.Bucket("Reports");
    const cronFailures = new sst.aws.Queue("CronFailures");

    // The exposure report and the stress pack are sharded jobs (DESIGN §4.1): the cron pins prices,
    // params and time in a run and queues one task per segment of the book; job workers write their
    // segment's partial to the bucket and report to the run's barrier (a DynamoDB count), and the
    // one that completes a pass reduces it: the next cascade round's tasks, or the report. An SQS
    // barrier rather than Step Functions: the same queue, worker and DLQ machinery as the sweep,
    // the same code path locally, and no state-transition charges per round and segment.
    const jobTasks = taskQueue("JobTasks", {
      handler: "functions/job-worker.handler",
      timeout: "15 minutes",
      visibilityTimeout: "90 minutes",
      batchSize: 1,
      maximumConcurrency: 16,
      dlqName: "JobFailures",
      link: [reports],
      environment: { BACKING_REPORT_BUCKET: reports.name },
      ownQueueVariable: "BACKING_JOB_QUEUE_URL",
    });
    const jobCoordinator = (handler: string) =>
      lambda({
        handler,
        timeout: "60 seconds",
        memory: "512 MB",
        link: [table, reports, jobTasks],
        environment: {
          BACKING_TABLE_NAME: table.name,
          BACKING_REPORT_BUCKET: reports.name,
          BACKING_JOB_QUEUE_URL: jobTasks.url,
        },
      });

    // Stress pack over the stored book every 6 hours; a failed invocation is retried, then parked.
    new sst.aws.CronV2("Stress", {
      schedule: "rate(6 hours)",
      retries: 2,
      dlq: cronFailures.arn,
      function: jobCoordinator("functions/stress.handler"),
    });

    // Exposure report hourly: JSON, CSV and HTML to the bucket, summary to the table.
    new sst.aws.CronV2("Exposure", {
      schedule: "rate(1 hour)",
      retries: 2,
      dlq: cronFailures.arn,
      function: jobCoordinator("functions/exposure.handler"),
    });

    // New outbox items on the table's stream become signed webhooks. SST's defaults retry a failing
    // batch forever from LATEST: start at TRIM_HORIZON, bisect, bound retries and record age, report
    // partial failures, and send what is given up on to a DLQ (reference serverless.md §1.3, §2.3).
    const streamFailures = new sst.aws.Queue("NotifyFailures");
    // Every notification also goes to an SNS topic, attributes venue/type/status, for operators'
    // own subscriptions (e-mail, SMS, queues) with filter policies.
    const marginNotifications = new sst.aws.SnsTopic("MarginNotifications");
    table.subscribe(
      "Notify",
      lambda({
        handler: "functions/notify.handler",
        timeout: "60 seconds",
        memory: "512 MB",
        link: [table, streamFailures, marginNotifications],
        environment: {
          BACKING_TABLE_NAME: table.name,
          BACKING_NOTIFICATION_TOPIC_ARN: marginNotifications.arn,
        },
      }),
      {
        filters: [{ eventName: ["INSERT"], dynamodb: { NewImage: { type: { S: ["notification"] } } } }],
        transform: {
          eventSourceMapping: {
            startingPosition: "TRIM_HORIZON",
            batchSize: 100,
            maximumBatchingWindowInSeconds: 1,
            bisectBatchOnFunctionError: true,
            maximumRetryAttempts: 5,
            maximumRecordAgeInSeconds: 3600,
            functionResponseTypes: ["ReportBatchItemFailures"],
            // Four batches of a shard at once. One account's notifications are separate items, so
            // two of them may be in flight at once: each waits for the one before it (notify's order rules).
            parallelizationFactor: 4,
            destinationConfig: { onFailure: { destinationArn: streamFailures.arn } },
          },
        },
      },
    );

    // Price events: EventBridge bus → price-event function, which fans large ticks out as shard
    // tasks on the recompute queue (partial batch responses, visibility 6× the timeout, a DLQ).
    // A tick's shards spread over at most 50 concurrent consumers: bounded DynamoDB load.
    const recompute = taskQueue("Recompute", {
      handler: "functions/recompute.handler",
      timeout: "60 seconds",
      visibilityTimeout: "6 minutes",
      batchSize: 10,
      maximumConcurrency: 50,
    });
    const prices = new sst.aws.Bus("Prices");
    prices.subscribe(
      "PriceEvent",
      lambda({
        handler: "functions/price-event.handler",
        timeout: "60 seconds",
        memory: "1024 MB",
        link: [table, recompute],
        environment: { BACKING_TABLE_NAME: table.name, BACKING_RECOMPUTE_QUEUE_URL: recompute.url },
      }),
      { pattern: { detailType: ["backing.price"] } },
    );
    // Funding prints (DESIGN §3.10) on the same bus, detail type backing.funding: their own rule and
    // handler, which re-evaluates the accounts exposed to the asset through the same recompute queue.
    prices.subscribe(
      "FundingEvent",
      lambda({
        handler: "functions/funding-event.handler",
        timeout: "60 seconds",
        memory: "1024 MB",
        link: [table, recompute],
        environment: { BACKING_TABLE_NAME: table.name, BACKING_RECOMPUTE_QUEUE_URL: recompute.url },
      }),
      { pattern: { detailType: ["backing.funding"] } },
    );

    // The trigger index's safety net, sharded (DESIGN §4.1): the Sweep cron takes the sweep lease
    // and queues one task per segment of the book; sweep workers recompute their segment and report
    // to the run, and the last one expires due calls and frees the lease. The cadence is a
    // parameter: a status change the index misses is found within one cadence plus a sweep.
    const sweepCadence = "rate(1 minute)";
    // One segment per invocation: a segment is a worker's whole job.
    const sweepTasks = taskQueue("SweepTasks", {
      handler: "functions/sweep-worker.handler",
      timeout: "5 minutes",
      visibilityTimeout: "30 minutes",
      batchSize: 1,
      maximumConcurrency: 16,
      dlqName: "SweepFailures",
    });
    new sst.aws.CronV2("Sweep", {
      schedule: sweepCadence,
      retries: 2,
      dlq: cronFailures.arn,
      function: lambda({
        handler: "functions/sweep.handler",
        timeout: "60 seconds",
        memory: "512 MB",
        link: [table, sweepTasks],
        environment: { BACKING_TABLE_NAME: table.name, BACKING_SWEEP_QUEUE_URL: sweepTasks.url },
      }),
    });

    // Webhook retries that are due (the schedule's 5 s to 10 h steps), every minute.
    new sst.aws.CronV2("Redeliver", {
      schedule: "rate(1 minute)",
      retries: 2,
      dlq: cronFailures.arn,
      function: lambda({
        handler: "functions/redeliver.handler",
        timeout: "5 minutes",
        memory: "512 MB",
        link: [table],
        environment: { BACKING_TABLE_NAME: table.name },
      }),
    });

    // The HTTP API (DESIGN §6): one function behind an API Gateway HTTP API, every route. The
    // operators' admin key is an app-wide secret (`sst secret set AdminApiKey bk_…`); venue keys
    // are created through the API and stored hashed in the table.
    const adminKey = new sst.Secret("AdminApiKey");
    const api = new sst.aws.ApiGatewayV2("Api");
    api.route(
      "$default",
      lambda({
        handler: "functions/api.handler",
        timeout: "29 seconds",
        memory: "1024 MB",
        link: [table, reports, recompute, adminKey],
        environment: {
          BACKING_TABLE_NAME: table.name,
          BACKING_REPORT_BUCKET: reports.name,
          BACKING_RECOMPUTE_QUEUE_URL: recompute.url,
        },
      }),
    );

    return {
      api: api.url,
      table: table.name,
      reports: reports.name,
      marginNotifications: marginNotifications.arn,
    };
  },
});
