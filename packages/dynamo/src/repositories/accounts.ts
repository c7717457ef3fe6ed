import type { Account } from "@backing/contracts";
import type { AccountRepository } from "@backing/engine";
import { type BookPage, exposureAssets, type StoredAccount, type StoredRiskState } from "@backing/engine";
import { decodedDocument, encodedDocument } from "../documents.ts";
import { ACCOUNT_SHARDS, keys } from "../keys.ts";
import { byteOrder, type Item, type TableClient } from "../table-client.ts";

/** The venues' account documents, sharded for whole-book reads. */
export class DynamoAccounts implements AccountRepository {
  constructor(private readonly table: TableClient) {}

  async putAccounts(
    accounts: Account[],
    keepExposure?: ReadonlyMap<string, readonly string[]>,
  ): Promise<void> {
    const items: Item[] = [];
    for (const account of accounts) {
      items.push({
        ...keys.account(account.id),
        ...keys.accountIndex(account.id),
        type: "account",
        account: encodedDocument(account),
        version: 1,
      });
      // No band yet: the first tick on any of its assets evaluates it.
      const kept = keepExposure?.get(account.id) ?? [];
      for (const asset of exposureAssets(account).filter((a) => !kept.includes(a)))
        items.push({
          ...keys.exposure(asset, account.id),
          ...keys.band(asset, account.id, null, null),
          type: "exposure",
          accountId: account.id,
        });
    }
    await this.table.batchPut(items);
  }

  async getAccounts(ids: readonly string[]): Promise<Map<string, StoredAccount>> {
    const items = await this.table.batchGet(ids.map((id) => keys.account(id)));
    return new Map(
      items.map((item) => {
        const account = decodedDocument<Account>(item.account);
        return [account.id, { account, version: item.version as number }];
      }),
    );
  }

  /** The whole book a page at a time, shard after shard of the sparse account index (no Scan). */
  async *scanAccounts(pageSize: number, segment = { index: 0, count: 1 }): AsyncIterable<Account[]> {
    for (let shard = segment.index; shard < ACCOUNT_SHARDS; shard += segment.count)
      for await (const page of this.table.queryPages({
        index: "gsi2",
        partition: keys.accountsPartition(shard),
        pageSize,
      }))
        if (page.length > 0) yield page.map((item) => decodedDocument<Account>(item.account));
  }

  /**
   * The whole book with the accounts' risk states, a page of accounts at a time: per shard, the
   * account index and the shard's states are both sorted by account id, so the states of a page
   * are the ones up to its last id (a merge join; at most one page of states held ahead).
   */
  async *scanBook(pageSize: number, segment = { index: 0, count: 1 }): AsyncIterable<BookPage> {
    for (let shard = segment.index; shard < ACCOUNT_SHARDS; shard += segment.count) {
      const statePages = this.table
        .queryPages({ partition: keys.riskStatesPartition(shard), pageSize })
        [Symbol.asyncIterator]();
      let ahead: Item[] = [];
      let statesDone = false;
      for await (const page of this.table.queryPages({
        index: "gsi2",
        partition: keys.accountsPartition(shard),
        pageSize,
      })) {
        if (page.length === 0) continue;
        const lastId = (page[page.length - 1] as Item).gsi2sk as string;
        while (
          !statesDone &&
          (ahead.length === 0 || byteOrder(ahead[ahead.length - 1]?.sk as string, lastId) < 0)
        ) {
          const read = await statePages.next();
          if (read.done) statesDone = true;
          else ahead.push(...read.value);
        }
        const states = new Map<string, StoredRiskState>();
        let used = 0;
        while (used < ahead.length && byteOrder(ahead[used]?.sk as string, lastId) <= 0) {
          const item = ahead[used++] as Item;
          states.set(item.accountId as string, decodedDocument<StoredRiskState>(item.state));
        }
        ahead = ahead.slice(used);
        yield { accounts: page.map((item) => decodedDocument<Account>(item.account)), states };
      }
    }
  }

  /** An account, its risk state and its exposure entries (bands); its notifications stay. */
  async deleteAccount(account: Account): Promise<void> {
    await this.table.batchDelete([
      keys.account(account.id),
      keys.riskState(account.id),
      ...exposureAssets(account).map((asset) => keys.exposure(asset, account.id)),
    ]);
  }
}
