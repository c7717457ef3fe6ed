/**
 * One job thread of `threadJobQueue`: the same task code as the job worker Lambda
 * (`runShardedTask`), on its own connection to the same table and report folder. Tasks come from
 * the main thread one at a time; the next pass's tasks go back to it.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { JobTask } from "@backing/contracts";
import { connect, dynamoStore } from "@backing/dynamo";
import { exposureJob, runShardedTask, stressJob } from "@backing/engine";
import { exposureRendering, folderReportStore } from "@backing/reports";
import type { JobThreadConfig, ThreadMessage } from "./job-threads.ts";

const config = workerData as JobThreadConfig;
const port = parentPort;
if (!port) throw new Error("job-thread.ts runs as a worker thread");
const post = (message: ThreadMessage) => port.postMessage(message);
const deps = {
  store: dynamoStore(connect({ endpoint: config.endpoint }).documents, config.tableName),
  now: Date.now,
  volatility: config.volatility,
  reports: folderReportStore(config.reportDir),
  rendering: exposureRendering,
};
const queue = { send: async (tasks: readonly JobTask[]) => post({ type: "send", tasks: [...tasks] }) };

post({ type: "ready" });
port.on("message", async (task: JobTask) => {
  try {
    const onProgress = (accounts: number) => post({ type: "progress", task, accounts });
    const outcome =
      task.job === "exposure"
        ? await runShardedTask(deps, exposureJob, queue, task, onProgress)
        : await runShardedTask(deps, stressJob, queue, task, onProgress);
    post({ type: "done", task, outcome });
  } catch (error) {
    post({ type: "failed", task, error: String((error as Error).stack ?? error) });
  }
});
