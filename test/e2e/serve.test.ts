import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.ts";
import { startReceiver } from "../helpers/receiver.ts";

// `backing serve` end to end, as a user runs it: a venue and its endpoint set up through the API,
// accounts imported, a crash posted, a verified margin.call webhook received, the risk and the
// explain trace read, a redelivery, then a graceful stop, a restart on the same data, and a
// scan of every log line for keys and secrets.
interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

const logs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});

async function startServe(dataDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "bin/backing.mjs"),
      "serve",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--allow-loopback-webhooks",
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    logs.push(chunk);
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    logs.push(chunk);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const ready = out
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { message: string; url?: string })
        .find((entry) => entry.message === "ready");
      if (ready?.url) {
        clearInterval(timer);
        resolve(ready.url);
      }
      if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`serve exited ${child.exitCode}: ${out.slice(-2000)}`));
      }
    }, 50);
  });
  return { child, url, output: () => out, exited };
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("backing serve", () => {
  it("runs the system end to end, stops gracefully and restarts with its data", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "backing-serve-"));
    const secrets: string[] = [];
    const receiver = await startReceiver({ secrets: () => secrets });
    try {
      let server = await startServe(dataDir);
      const adminKey = (await readFile(join(dataDir, "admin-key"), "utf8")).trim();
      // Secrets at rest: the data folder (DynamoDB Local's store holds webhook secrets) and the
      // admin key are the owner's only.
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, "dynamodb"))).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, "admin-key"))).mode & 0o777).toBe(0o600);
      const api = async (
        path: string,
        key: string,
        init: { method?: string; body?: string; type?: string } = {},
      ) => {
        const response = await fetch(`${server.url}${path}`, {
          method: init.method ?? "GET",
          headers: {
            authorization: `Bearer ${key}`,
            ...(init.body !== undefined ? { "content-type": init.type ?? "application/json" } : {}),
          },
          ...(init.body !== undefined ? { body: init.body } : {}),
        });
        const text = await response.text();
        return { status: response.status, json: text ? JSON.parse(text) : null };
      };

      const venueKey = await api("/v1/keys", adminKey, {
        method: "POST",
        body: JSON.stringify({ venue: "venue-e2e", label: "e2e" }),
      });
      expect(venueKey.status).toBe(201);
      const key = venueKey.json.key as string;
      const endpoint = await api("/v1/endpoints", key, {
        method: "POST",
        body: JSON.stringify({
          url: receiver.url("/venue-e2e"),
          types: ["margin.call", "margin.liquidation", "margin.cured"],
        }),
      });
      expect(endpoint.status).toBe(201);
      secrets.push(endpoint.json.secret);

      // 1,000 USDC vs long 1 BTC at 20,000: a margin call at BTC 19,100. The other is well funded.
      const book = ["1000", "50000"]
        .map((usdc, i) =>
          JSON.stringify({
            id: `e2e-${i + 1}`,
            venue: "venue-e2e",
            collateral: { USDC: usdc },
            positions: [
              { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" },
            ],
          }),
        )
        .join("\n");
      const imported = await api("/v1/accounts/import", key, {
        method: "POST",
        body: book,
        type: "application/x-ndjson",
      });
      expect(imported.json).toMatchObject({ imported: 2, failed: 0 });

      const price = (id: string, btc: string) =>
        JSON.stringify(
          ["BTC", "USDC"].map((asset) => ({
            eventId: `${asset}@${id}`,
            asset,
            index: asset === "BTC" ? btc : "1",
            timestamp: new Date().toISOString(),
            source: "e2e",
          })),
        );
      expect((await api("/v1/prices", adminKey, { method: "POST", body: price("1", "20000") })).status).toBe(
        202,
      );
      expect((await api("/v1/prices", adminKey, { method: "POST", body: price("2", "19100") })).status).toBe(
        202,
      );

      const call = await until("the margin.call webhook", () =>
        receiver.received.find((r) => JSON.parse(r.body).type === "margin.call"),
      );
      expect(call.verified).toBe(true);
      expect(JSON.parse(call.body).data).toMatchObject({
        account: "e2e-1",
        status: "MARGIN_CALL",
        equity: "100",
      });

      const risk = await api("/v1/accounts/e2e-1/risk", key);
      expect(risk.json.state).toMatchObject({ status: "MARGIN_CALL" });
      expect(risk.json.current.result.explain).toBeDefined();
      const explained = await api(`/v1/notifications/${call.id}/explain`, key);
      expect(explained.json.diffs).toEqual([]);

      expect((await api(`/v1/notifications/${call.id}/redeliver`, key, { method: "POST" })).status).toBe(202);
      await until("the redelivery", () =>
        receiver.received.filter((r) => r.id === call.id).length === 2 ? true : undefined,
      );
      expect(receiver.received.filter((r) => r.id === call.id).every((r) => r.verified)).toBe(true);

      // Graceful stop: exit 0 after draining.
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('"message":"stopped"');

      // Restart on the same data: keys, accounts, notifications are there; nothing is sent twice.
      server = await startServe(dataDir);
      const account = await api("/v1/accounts/e2e-1", key);
      expect(account.status).toBe(200);
      const notifications = await api("/v1/notifications", key);
      expect(notifications.json.notifications.map((n: { id: string }) => n.id)).toEqual([call.id]);
      // A new notification of the same account: BTC back to 21,000 cures it (equity 2,000 against
      // IM 168). Its deliveries are in order behind the call's in the account's lane, and the
      // stream is read in order, so once the cure has arrived a re-sent call would have too.
      expect((await api("/v1/prices", adminKey, { method: "POST", body: price("3", "21000") })).status).toBe(
        202,
      );
      const cured = await until("the margin.cured webhook", () =>
        receiver.received.find((r) => JSON.parse(r.body).type === "margin.cured"),
      );
      expect(JSON.parse(cured.body).data).toMatchObject({ account: "e2e-1", previousStatus: "MARGIN_CALL" });
      expect(receiver.received.filter((r) => r.id === call.id)).toHaveLength(2);
      server.child.kill("SIGINT");
      expect(await server.exited).toBe(0);

      // A data directory from an older storage layout is refused with a clear message, not misread.
      await writeFile(join(dataDir, "layout"), "1\n");
      await expect(startServe(dataDir)).rejects.toThrow(/storage layout 1; this version reads layout 2/);

      // No key or secret in any log line.
      const everything = logs.join("");
      expect(everything).toContain('"message":"api request"');
      for (const secret of [adminKey, key, ...secrets, ...secrets.map((s) => s.replace(/^whsec_/, ""))])
        expect(everything).not.toContain(secret);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
