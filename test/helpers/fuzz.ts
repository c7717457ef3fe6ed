import { type DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import type { z } from "zod";

// DESIGN §9 and issue 17: 10,000 generated malformed or hostile bodies per write route and per
// event type (test/integration/fuzz-*.test.ts). BACKING_FUZZ_RUNS overrides the count.
export const RUNS = Number(process.env.BACKING_FUZZ_RUNS ?? 10_000);
// Bodies are drawn up front and sent in a plain loop (fast-check's per-run machinery costs more
// than the request); a failure names the seed to draw the same bodies again (BACKING_FUZZ_SEED).
export const SEED = Number(process.env.BACKING_FUZZ_SEED ?? Date.now() % 2 ** 31);
export const draw = <T>(arbitrary: fc.Arbitrary<T>) => fc.sample(arbitrary, { numRuns: RUNS, seed: SEED });

/** Checks each input; the first few failures (empty: every one was refused as it should be). */
export async function refusedEach<T>(inputs: readonly T[], check: (input: T) => Promise<string | null>) {
  const failures: string[] = [];
  for (const input of inputs) {
    const failure = await check(input);
    if (failure && failures.length < 3) failures.push(`${failure} (seed ${SEED})`);
  }
  return failures;
}
export const shown = (body: string) =>
  body.length > 300 ? `${body.slice(0, 300)}… (${body.length} chars)` : body;
/** Every item of the table, in a stable order: "nothing written" is this before = this after. */
export async function tableDump(fresh: {
  documents: DynamoDBDocumentClient;
  tableName: string;
}): Promise<string> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await fresh.documents.send(
      new ScanCommand({ TableName: fresh.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items
    .map((item) => JSON.stringify(item))
    .sort()
    .join("\n");
}

/** Values a careless or hostile client sends in place of a field. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    "",
    "1e400",
    "-0",
    "NaN",
    "Infinity",
    "0x10",
    "1,000",
    " 1",
    `1${"0".repeat(100_000)}`,
    "0.0000000000000000001",
    "__proto__",
    '=HYPERLINK("http://x")',
    "../../etc/passwd",
    "a\u0000b",
    "\u202e",
    "x".repeat(300 * 1024),
    1e308,
    -1,
    0,
    1.5,
    Number.MAX_SAFE_INTEGER + 2,
    true,
    null,
    [],
    {},
    { __proto__: null, constructor: "x" },
  ),
  fc.integer({ min: 1, max: 500 }).map((depth) => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
);

type Path = (string | number)[];
function pathsOf(value: unknown, at: Path = []): Path[] {
  const paths: Path[] = at.length > 0 ? [at] : [];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths.push(...pathsOf(v, [...at, i]));
  } else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) paths.push(...pathsOf(v, [...at, k]));
  return paths;
}

function mutate(valid: unknown, path: Path, how: "replace" | "delete" | "add", value: unknown): unknown {
  const copy = structuredClone(valid) as Record<string | number, unknown>;
  if (path.length === 0) return value;
  let parent: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (how === "delete") {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (how === "add" && !Array.isArray(parent)) parent[`${String(last)}_unknown`] = value;
  else parent[last] = value;
  return copy;
}

/**
 * Bodies derived from a valid document: one field replaced, removed or joined by an unknown one;
 * the whole body replaced; or raw text that is not JSON. Only those the route's schema refuses are
 * kept (a mutation may happen to be valid).
 */
export function malformed(valid: unknown, refuses: (body: unknown) => boolean): fc.Arbitrary<string> {
  const paths = pathsOf(valid);
  const mutated = fc
    .record({
      path: paths.length > 0 ? fc.constantFrom(...paths) : fc.constant([] as Path),
      how: fc.constantFrom("replace", "delete", "add") as fc.Arbitrary<"replace" | "delete" | "add">,
      value: hostile,
    })
    .map(({ path, how, value }) => mutate(valid, path, how, value));
  const json = fc.oneof({ weight: 6, arbitrary: mutated }, { weight: 1, arbitrary: hostile });
  const text = fc.oneof(
    { weight: 8, arbitrary: json.filter(refuses).map((body) => JSON.stringify(body) ?? "null") },
    // A body nested far deeper than any document (the parser and the schemas must not blow the stack).
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((d) => `${"[".repeat(d)}${"]".repeat(d)}`),
    },
    {
      weight: 1,
      arbitrary: fc.string({ maxLength: 200 }).filter((s) => {
        if (s.trim() === "") return false; // an empty body is a valid rotation
        try {
          return refuses(JSON.parse(s));
        } catch {
          return true;
        }
      }),
    },
  );
  return text;
}

export const refusedBy = (schema: z.ZodType) => (body: unknown) => !schema.safeParse(body).success;

/** Valid events the generators mutate (venue "venue-f": the fuzzed API's venue key). */
export const VALID_PRICE = {
  eventId: "e",
  asset: "BTC",
  index: "20000",
  timestamp: "2026-01-01T00:00:00Z",
  source: "f",
};
export const VALID_FUNDING = {
  eventId: "f",
  venue: "venue-f",
  asset: "BTC",
  rate: "0.0001",
  fundingTime: "2026-01-01T00:00:00Z",
  price: "20000",
  source: "f",
};

/** The drawn bodies that are JSON, parsed (what an event source such as EventBridge can deliver). */
export function jsonOnly(texts: readonly string[]): unknown[] {
  return texts.flatMap((text) => {
    try {
      return [JSON.parse(text) as unknown];
    } catch {
      return [];
    }
  });
}
