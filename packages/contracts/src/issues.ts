import type { z } from "zod";

/** One problem with an input, located by a path such as `accounts[0].positions[1].strike`. */
export interface InputIssue {
  path: string;
  message: string;
}

export function formatPath(segments: readonly PropertyKey[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else path += path === "" ? String(segment) : `.${String(segment)}`;
  }
  return path;
}

export function issuesFromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): InputIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]) || "(document)",
    message: issue.message,
  }));
}
