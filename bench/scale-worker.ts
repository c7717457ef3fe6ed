/**
 * One sweep worker of bench/scale.ts, in its own process as a Lambda would be: takes segment tasks
 * from the parent (IPC), sweeps each against the parent's DynamoDB Local, and answers with the
 * accounts swept; on "done", reports its peak RSS. Arguments: endpoint, table, clock (ms), volatility (JSON).
 */
import type { SweepTask } from "@backing/contracts";
import { connect, dynamoStore } from "@backing/dynamo";
import { runSweepTask } from "@backing/engine";

const [endpoint = "", table = "", clock = "0", volatility = "{}"] = process.argv.slice(2);
const store = dynamoStore(connect({ endpoint }).documents, table);
const deps = {
  store,
  now: () => Number(clock),
  volatility: JSON.parse(volatility) as Record<string, string>,
};
const send = (message: unknown) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

process.on("message", async (message: { task?: SweepTask; done?: true }) => {
  if (message.done) {
    await send({ peakMb: Math.round(process.resourceUsage().maxRSS / 1024) });
    process.exit(0);
  }
  if (message.task) {
    try {
      const { totals } = await runSweepTask(deps, message.task);
      await send({ accounts: totals.accounts });
    } catch (error) {
      await send({ error: String((error as Error).stack ?? error) });
    }
  }
});
await send({ ready: true });
