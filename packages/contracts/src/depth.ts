import { z } from "zod";
import { AssetSymbol, assetRecord, PositiveDecimalString, Timestamp } from "./primitives.ts";

/** Per side: a DynamoDB item holds the latest snapshot of an asset, well inside its 400 KB. */
export const MAX_DEPTH_LEVELS = 1000;

/** Compares two positive decimal strings exactly (the contracts carry no decimal library). */
function comparePositiveDecimals(a: string, b: string): number {
  const [aInt = "", aFrac = ""] = a.split(".");
  const [bInt = "", bFrac = ""] = b.split(".");
  if (aInt.length !== bInt.length) return aInt.length < bInt.length ? -1 : 1;
  if (aInt !== bInt) return aInt < bInt ? -1 : 1;
  const width = Math.max(aFrac.length, bFrac.length);
  const x = aFrac.padEnd(width, "0");
  const y = bFrac.padEnd(width, "0");
  return x === y ? 0 : x < y ? -1 : 1;
}

const DepthLevel = z.tuple([PositiveDecimalString, PositiveDecimalString], {
  error: 'expected a level [price, size], e.g. ["49950.5", "1.25"]',
});

const DepthSide = z
  .array(DepthLevel, { error: "expected a list of [price, size] levels" })
  .min(1, { error: "expected at least one level: an empty side has no depth to walk" })
  .max(MAX_DEPTH_LEVELS, { error: `at most ${MAX_DEPTH_LEVELS} levels per side` });

const bookFields = { timestamp: Timestamp, bids: DepthSide, asks: DepthSide };

type Book = { bids: [string, string][]; asks: [string, string][] };

/** Bids best first with prices falling, asks best first with prices rising, the best bid below the best ask. */
function checkBook(book: Book, ctx: z.RefinementCtx): void {
  const sorted = (side: "bids" | "asks", direction: number, words: string) => {
    const levels = book[side];
    for (let i = 1; i < levels.length; i++) {
      const [price] = levels[i] as [string, string];
      const [before] = levels[i - 1] as [string, string];
      if (Math.sign(comparePositiveDecimals(price, before)) !== direction)
        ctx.addIssue({
          code: "custom",
          path: [side, i, 0],
          message: `${side} must be best first with prices ${words}: ${price} is not ${direction < 0 ? "below" : "above"} ${side}[${i - 1}] at ${before}`,
        });
    }
  };
  sorted("bids", -1, "falling");
  sorted("asks", 1, "rising");
  const bestBid = book.bids[0]?.[0];
  const bestAsk = book.asks[0]?.[0];
  if (bestBid && bestAsk && comparePositiveDecimals(bestBid, bestAsk) >= 0)
    ctx.addIssue({
      code: "custom",
      path: ["asks", 0, 0],
      message: `crossed book: the best ask ${bestAsk} is not above the best bid bids[0] at ${bestBid}`,
    });
}

function oncePerAsset(books: { asset: string }[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  books.forEach((book, i) => {
    const first = seen.get(book.asset);
    if (first !== undefined)
      ctx.addIssue({
        code: "custom",
        path: [i, "asset"],
        message: `a second snapshot for ${book.asset} (also [${first}])`,
      });
    else seen.set(book.asset, i);
  });
}

/**
 * A venue's order book for one asset at one time (DESIGN §3.11): levels `[price, size]` in USD and
 * base units. Cascades and liquidation-to-depth ratios read it relative to its mid, the average of
 * the best bid and ask, so it moves with the price: a level x % below the mid sits x % below the mark.
 */
export const DepthSnapshot = z.strictObject({ asset: AssetSymbol, ...bookFields }).superRefine(checkBook);
export type DepthSnapshot = z.infer<typeof DepthSnapshot>;

/** Several snapshots (`POST /v1/depth`, a depth file), at most one per asset. */
export const DepthSnapshotList = z
  .array(DepthSnapshot)
  .min(1, { error: "expected at least one depth snapshot" })
  .max(100, { error: "at most 100 snapshots at once" })
  .superRefine(oncePerAsset);

/** A portfolio document's `depth`: snapshots by asset; an `asset` inside, when given, matches its key. */
export const PortfolioDepth = assetRecord(
  z.strictObject({ asset: AssetSymbol.optional(), ...bookFields }).superRefine(checkBook),
).superRefine((books, ctx) => {
  for (const [key, book] of Object.entries(books))
    if (book.asset !== undefined && book.asset !== key)
      ctx.addIssue({
        code: "custom",
        path: [key, "asset"],
        message: `the snapshot under ${key} is for ${book.asset}`,
      });
});
export type PortfolioDepth = z.infer<typeof PortfolioDepth>;

/**
 * `backing stress --depth FILE` and `backing report exposure --depth FILE`: one snapshot, a list of
 * them, or snapshots by asset as in a portfolio document. The shape picks the schema, so an error
 * names the level in the file's own terms.
 */
export function depthFileSchema(input: unknown) {
  if (Array.isArray(input))
    return DepthSnapshotList.transform((books) => Object.fromEntries(books.map((b) => [b.asset, b])));
  if (input !== null && typeof input === "object" && "bids" in input)
    return DepthSnapshot.transform((book) => ({ [book.asset]: book }));
  return PortfolioDepth;
}
