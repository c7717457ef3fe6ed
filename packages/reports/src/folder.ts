import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReportStore } from "@backing/engine";

/**
 * The local report store: `<directory>/<kind>/<id>.json`, or `<directory>/<kind>/<id>/<name>` for
 * a report of several files, written as the chunks arrive to a file of its own and then renamed
 * into place, as an S3 PUT replaces an object whole: a reader never sees a partial file, and two
 * writers of the same file (a retried task's reduce racing the first) cannot interleave.
 */
export function folderReportStore(directory: string): ReportStore {
  const pathOf = (kind: string, id: string, name?: string) =>
    name ? join(directory, kind, id, name) : join(directory, kind, `${id}.json`);
  return {
    async write(kind, id, chunks, name) {
      const path = pathOf(kind, id, name);
      await mkdir(dirname(path), { recursive: true });
      const partial = `${path}.${randomUUID()}.partial`;
      try {
        await pipeline(Readable.from(chunks), createWriteStream(partial));
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
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
