import type { Account } from "@backing/contracts";
import type { TriggerIndex } from "@backing/engine";
import { exposureAssets, type StoredBand } from "@backing/engine";
import { bandOfItem } from "../items.ts";
import { EXPOSURE_SHARDS, keys, sortablePrice } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The exposure entries of each asset and the trigger bands on them (gsi1: low edges, gsi2: high edges). */
export class DynamoTriggerIndex implements TriggerIndex {
  constructor(private readonly table: TableClient) {}

  async exposedAccountIds(asset: string): Promise<string[]> {
    const shards = await Promise.all(
      Array.from({ length: EXPOSURE_SHARDS }, (_, shard) =>
        this.table.queryAll(keys.exposurePartition(asset, shard)),
      ),
    );
    return shards.flat().map((item) => item.accountId as string);
  }

  async putBands(bands: readonly StoredBand[]): Promise<void> {
    await this.table.batchPut(
      bands.map((b) => ({
        ...keys.exposure(b.asset, b.accountId),
        ...keys.band(b.asset, b.accountId, b.low, b.high),
        type: "exposure",
        accountId: b.accountId,
      })),
    );
  }

  async getBands(
    accounts: readonly { accountId: string; assets: readonly string[] }[],
  ): Promise<Map<string, StoredBand[]>> {
    const items = await this.table.batchGet(
      accounts.flatMap(({ accountId, assets }) => assets.map((asset) => keys.exposure(asset, accountId))),
    );
    const bands = new Map<string, StoredBand[]>();
    for (const item of items) {
      const band = bandOfItem(item);
      bands.set(band.accountId, [...(bands.get(band.accountId) ?? []), band]);
    }
    return bands;
  }

  async triggeredAccountIds(asset: string, lowest: string, highest: string): Promise<string[]> {
    const query = async (index: "gsi1" | "gsi2", partition: string, op: "<" | ">", value: string) => {
      const ids: string[] = [];
      for await (const page of this.table.queryPages({
        index,
        partition,
        sort: { op, value },
        projection: "accountId",
      }))
        for (const item of page) ids.push(item.accountId as string);
      return ids;
    };
    const low = sortablePrice(lowest);
    const high = sortablePrice(highest);
    const found = await Promise.all(
      Array.from({ length: EXPOSURE_SHARDS }, (_, shard) => [
        // Fell below the band: low edge above the new lowest price.
        query("gsi1", keys.bandLowPartition(asset, shard), ">", low),
        // Rose above it: high edge below the new highest price.
        query("gsi2", keys.bandHighPartition(asset, shard), "<", high),
      ]).flat(),
    );
    return [...new Set(found.flat())];
  }

  /**
   * Of these accounts, those with a "no band" entry: from the index's no-band entries when there
   * are few in the whole book, else by reading the accounts' exposure items (a fresh import).
   */
  async unbandedAccountIds(accounts: readonly Account[]): Promise<Set<string>> {
    const assets = [...new Set(accounts.flatMap(exposureAssets))];
    const all = await this.allUnbandedAccountIds(assets, Math.max(1_000, 2 * accounts.length));
    if (!all) return this.unbandedByItems(accounts);
    return new Set(accounts.filter((a) => all.has(a.id)).map((a) => a.id));
  }

  async allUnbandedAccountIds(assets: readonly string[], limit: number): Promise<Set<string> | null> {
    const unbanded = new Set<string>();
    let seen = 0;
    let overflow = false;
    const partitions = assets.flatMap((asset) =>
      Array.from({ length: EXPOSURE_SHARDS }, (_, shard) => keys.bandLowPartition(asset, shard)),
    );
    await Promise.all(
      partitions.map(async (partition) => {
        const pages = this.table.queryPages({
          index: "gsi1",
          partition,
          sort: { op: "=", value: "~" },
          projection: "accountId",
        });
        for await (const page of pages) {
          for (const item of page) unbanded.add(item.accountId as string);
          seen += page.length;
          overflow ||= seen > limit;
          if (overflow) break;
        }
      }),
    );
    return overflow ? null : unbanded;
  }

  private async unbandedByItems(accounts: readonly Account[]): Promise<Set<string>> {
    const items = await this.table.batchGet(
      accounts.flatMap((account) => exposureAssets(account).map((asset) => keys.exposure(asset, account.id))),
    );
    const unbanded = new Set<string>();
    for (const item of items) if (item.gsi1sk === "~") unbanded.add(item.accountId as string);
    return unbanded;
  }

  async dropExposure(accountId: string, assets: readonly string[]): Promise<void> {
    await this.table.batchDelete(assets.map((asset) => keys.exposure(asset, accountId)));
  }
}
