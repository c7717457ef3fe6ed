/**
 * The sharded jobs' tasks on worker threads, one per core (DESIGN §4.1, locally): the queue the
 * coordinator sends to hands each task to an idle thread, a thread that completes a pass sends the
 * next pass's tasks back, and a failed task is retried (three attempts, as the SQS queue does)
 * before the job fails. The threads run the job worker Lambda's code on their own connections.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { JobTask } from "@backing/contracts";
import type { JobTaskOutcome, JobTaskQueue } from "@backing/engine";

export interface JobThreadConfig {
  /** DynamoDB (Local) the threads read and write, and the table. */
  endpoint: string;
  tableName: string;
  /** The report folder every thread writes partials and reports to. */
  reportDir: string;
  volatility: Record<string, string>;
}

export type ThreadMessage =
  | { type: "ready" }
  | { type: "send"; tasks: JobTask[] }
  | { type: "progress"; task: JobTask; accounts: number }
  | { type: "done"; task: JobTask; outcome: JobTaskOutcome<unknown> }
  | { type: "failed"; task: JobTask; error: string };

const ATTEMPTS = 3;

/** One thread per core by default (at most one per account shard of the table). */
export const defaultJobThreads = () => Math.max(1, Math.min(16, availableParallelism()));

export interface ThreadJobQueue<Result> extends JobTaskQueue {
  /** Every thread loaded and connected (a bench starts its clock here: a cold start is not the job). */
  ready(): Promise<void>;
  /** The finished job's result; rejects when a task failed every attempt. */
  result(): Promise<Result>;
  /** Stops the threads. */
  close(): Promise<void>;
}

export function threadJobQueue<Result>(
  config: JobThreadConfig,
  options: { threads?: number; onProgress?: (accounts: number) => void } = {},
): ThreadJobQueue<Result> {
  const threads = options.threads ?? defaultJobThreads();
  const pending: JobTask[] = [];
  const attempts = new Map<string, number>();
  /** Accounts done per segment in its current pass, for progress over the whole book. */
  const progress = new Map<number, number>();
  const idle: Worker[] = [];
  let settle: { resolve: (r: Result) => void; reject: (e: Error) => void } | undefined;
  const settled = new Promise<Result>((resolve, reject) => {
    settle = { resolve, reject };
  });
  settled.catch(() => {});
  const keyOf = (task: JobTask) => `${task.runId}/${task.pass}/${task.segment}`;

  const dispatch = () => {
    while (idle.length > 0 && pending.length > 0) (idle.pop() as Worker).postMessage(pending.shift());
  };
  let loaded = 0;
  let allLoaded: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    allLoaded = resolve;
  });
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(new URL("./job-thread.mjs", import.meta.url), { workerData: config });
    worker.on("message", (message: ThreadMessage) => {
      if (message.type === "ready") {
        if (++loaded === threads) allLoaded();
        return;
      }
      if (message.type === "send") {
        pending.push(...message.tasks);
        dispatch();
        return;
      }
      if (message.type === "progress") {
        progress.set(message.task.segment, message.accounts);
        options.onProgress?.([...progress.values()].reduce((a, b) => a + b, 0));
        return;
      }
      if (message.type === "done" && message.outcome.state === "finished")
        settle?.resolve(message.outcome.result as Result);
      if (message.type === "failed") {
        const tried = (attempts.get(keyOf(message.task)) ?? 0) + 1;
        attempts.set(keyOf(message.task), tried);
        if (tried < ATTEMPTS) pending.push(message.task);
        else
          settle?.reject(
            new Error(`job task ${keyOf(message.task)} failed ${tried} times: ${message.error}`),
          );
      }
      idle.push(worker);
      dispatch();
    });
    worker.on("error", (error) => settle?.reject(error));
    idle.push(worker);
    return worker;
  });

  return {
    async send(tasks) {
      pending.push(...tasks);
      dispatch();
    },
    ready: () => ready,
    result: () => settled,
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * A sharded job with its tasks on threads: `start` is the job's coordinator (it sends the first
 * pass's tasks to the queue it is given, in as many segments as threads); resolves with the report.
 */
export async function runOnThreads<Result>(
  config: JobThreadConfig,
  start: (queue: JobTaskQueue, segments: number) => Promise<unknown>,
  options: { threads?: number; onProgress?: (accounts: number) => void } = {},
): Promise<Result> {
  const threads = options.threads ?? defaultJobThreads();
  const queue = threadJobQueue<Result>(config, { ...options, threads });
  try {
    await start(queue, threads);
    return await queue.result();
  } finally {
    await queue.close();
  }
}
