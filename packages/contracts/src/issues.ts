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
  return error.issues.flatMap((issue) =>
    // An unknown field is named by its own path (a misspelt `markPrice` would otherwise be dropped
    // silently and change the numbers).
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          path: formatPath([...prefix, ...issue.path, key]),
          message: "unknown field",
        }))
      : [{ path: formatPath([...prefix, ...issue.path]) || "(document)", message: issue.message }],
  );
}
