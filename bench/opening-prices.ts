/** A bench book's opening price events: one per asset, at `atMs`, ids `<asset>@0`. */
export const openingPrices = (prices: Record<string, string>, atMs: number) =>
  Object.entries(prices).map(([asset, index]) => ({
    eventId: `${asset}@0`,
    asset,
    index,
    timestamp: new Date(atMs).toISOString(),
    source: "bench",
  }));
