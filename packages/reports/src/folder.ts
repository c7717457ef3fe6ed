import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReportStore } from "@backing/engine";

/** The local report store: `<directory>/<kind>/<id>.json`, written as the chunks arrive. */
export function folderReportStore(directory: string): ReportStore {
  return {
    async write(kind, id, chunks) {
      const folder = join(directory, kind);
      await mkdir(folder, { recursive: true });
      const path = join(folder, `${id}.json`);
      await pipeline(Readable.from(chunks), createWriteStream(path));
      return relative(process.cwd(), path) || path;
    },
  };
}
