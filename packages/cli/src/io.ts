import { readFile } from "node:fs/promises";
import { depthFileSchema, issuesFromZod } from "@backing/contracts";
import { type DepthBook, depthBooks, type Market } from "@backing/core";

/** Exit codes of every command: 0 ok, 1 failure, 2 bad input (DESIGN §6). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

export class BadInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BadInputError";
  }
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a JSON document from a file path, or from stdin when the path is `-`. */
export async function readJsonInput(source: string, io: Io): Promise<unknown> {
  let text: string;
  try {
    text = source === "-" ? await readStream(io.stdin) : await readFile(source, "utf8");
  } catch (error) {
    throw new BadInputError(`cannot read ${source}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadInputError(`${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes and waits for the stream to drain, so 100,000 accounts never pile up in memory. */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve) => stream.once("drain", () => resolve()));
}

/** Progress on stderr for long work: a bar on a terminal, a line every 10% otherwise. */
export function progress(io: Io, label: string, total: number, options: { always?: boolean } = {}) {
  const quiet = !options.always && total < 5_000;
  let lastShown = -1;
  return {
    tick(done: number) {
      if (quiet) return;
      const percent = Math.floor((done / total) * 100);
      if (io.stderr.isTTY) {
        if (percent === lastShown) return;
        const width = 30;
        const filled = Math.round((percent / 100) * width);
        io.stderr.write(
          `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${percent}% (${done}/${total})`,
        );
      } else {
        // A line each time another tenth is done (or at the end).
        if (Math.floor(percent / 10) === Math.floor(lastShown / 10) && done !== total) return;
        io.stderr.write(`${label}: ${percent}% (${done}/${total})\n`);
      }
      lastShown = percent;
    },
    done() {
      if (!quiet && io.stderr.isTTY) io.stderr.write("\n");
    },
  };
}

/**
 * `--depth FILE`: order-book snapshots (one, a list, or by asset), merged over the portfolio
 * document's own `depth` (the file wins for an asset in both). Every snapshot's asset needs a price.
 */
export async function withDepthFile<P extends { market: Market; depth: Map<string, DepthBook> }>(
  portfolio: P,
  file: string | undefined,
  io: Io,
): Promise<P> {
  if (file === undefined) return portfolio;
  const input = await readJsonInput(file, io);
  const parsed = depthFileSchema(input).safeParse(input);
  const issues = parsed.success ? [] : issuesFromZod(parsed.error);
  const books = parsed.success ? depthBooks(parsed.data) : new Map<string, DepthBook>();
  for (const asset of books.keys())
    if (!portfolio.market.quotes.has(asset))
      issues.push({ path: asset, message: `no price for ${asset} in the portfolio document` });
  if (issues.length > 0)
    throw new BadInputError(
      `invalid depth file ${file} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${issues.map((i) => `  ${i.path || "(root)"}: ${i.message}`).join("\n")}`,
    );
  return { ...portfolio, depth: new Map([...portfolio.depth, ...books]) };
}
