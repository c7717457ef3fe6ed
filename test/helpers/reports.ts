import type { ReportStore } from "@backing/engine";

/** Reports kept in memory, by path; `failOnce` makes the next write of a matching file throw (a worker dying mid-write). */
export function memoryReports() {
  const files = new Map<string, string>();
  const failing = new Set<string>();
  const pathOf = (kind: string, id: string, name?: string) =>
    name ? `${kind}/${id}/${name}` : `${kind}/${id}.json`;
  const reports: ReportStore = {
    async write(kind, id, chunks, name) {
      const path = pathOf(kind, id, name);
      let text = "";
      for await (const chunk of chunks) text += chunk;
      for (const pattern of failing)
        if (path.includes(pattern)) {
          failing.delete(pattern);
          throw new Error(`worker died writing ${path}`);
        }
      files.set(path, text);
      return path;
    },
    async read(kind, id, name) {
      return files.get(pathOf(kind, id, name)) ?? null;
    },
  };
  return { reports, files, failOnce: (pattern: string) => failing.add(pattern) };
}
