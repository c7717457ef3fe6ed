import { createWriteStream } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReportStore } from "@backing/engine";

/**
 * The local report store: `<directory>/<kind>/<id>.json`, or `<directory>/<kind>/<id>/<name>` for
 * a report of several files, written as the chunks arrive.
 */
export function folderReportStore(directory: string): ReportStore {
  const pathOf = (kind: string, id: string, name?: string) =>
    name ? join(directory, kind, id, name) : join(directory, kind, `${id}.json`);
  return {
    async write(kind, id, chunks, name) {
      const path = pathOf(kind, id, name);
      await mkdir(dirname(path), { recursive: true });
      await pipeline(Readable.from(chunks), createWriteStream(path));
      return relative(process.cwd(), path) || path;
    },
    async read(kind, id, name) {
      try {
        return await readFile(pathOf(kind, id, name), "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
  };
}
