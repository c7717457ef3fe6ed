import type { Account, RiskParamsDocument } from "@backing/contracts";
import type { EngineStore, StateWrite, StoredAccount, StoredRiskState } from "./ports.ts";
import { VersionConflictError } from "./ports.ts";

/**
 * For a long-running local process: remembers books and risk states between ticks instead of
 * reading them again. Safe because every state write stays conditional on the version read: a
 * stale cached state only costs a VersionConflictError, which drops the entry so the retry reads
 * the store. Books, the exposure index and the params change only through this process
 * (`putAccounts`, `putParams`), which refreshes them. Lambda handlers use
 * the store directly (they are stateless).
 */
export function cachedStore(store: EngineStore): EngineStore {
  const accounts = new Map<string, StoredAccount>();
  const exposures = new Map<string, string[]>();
  let params: Promise<RiskParamsDocument | null> | undefined;
  const states = new Map<string, StoredRiskState>();
  /** Accounts known to have no stored state (never written: HEALTHY). */
  const stateless = new Set<string>();
  const missing = <T>(ids: readonly string[], cache: Map<string, T>) => ids.filter((id) => !cache.has(id));
  return Object.assign(Object.create(store) as EngineStore, {
    async putAccounts(list: Account[]) {
      await store.putAccounts(list);
      for (const account of list) accounts.set(account.id, { account, version: 1 });
      exposures.clear();
    },
    async exposedAccountIds(asset: string) {
      let ids = exposures.get(asset);
      if (!ids) {
        ids = await store.exposedAccountIds(asset);
        exposures.set(asset, ids);
      }
      return ids;
    },
    async getAccounts(ids: readonly string[]) {
      const fetched = await store.getAccounts(missing(ids, accounts));
      for (const [id, account] of fetched) accounts.set(id, account);
      return new Map(
        ids.flatMap((id) => (accounts.has(id) ? [[id, accounts.get(id) as StoredAccount] as const] : [])),
      );
    },
    async getRiskStates(ids: readonly string[]) {
      const unknown = missing(ids, states).filter((id) => !stateless.has(id));
      const fetched = await store.getRiskStates(unknown);
      for (const id of unknown) {
        const state = fetched.get(id);
        if (state) states.set(id, state);
        else stateless.add(id);
      }
      return new Map(
        ids.flatMap((id) => (states.has(id) ? [[id, states.get(id) as StoredRiskState] as const] : [])),
      );
    },
    getParams() {
      params ??= store.getParams();
      return params;
    },
    async putParams(document: RiskParamsDocument) {
      await store.putParams(document);
      params = Promise.resolve(document);
    },
    async writeState(write: StateWrite) {
      try {
        await store.writeState(write);
        states.set(write.state.accountId, write.state);
        stateless.delete(write.state.accountId);
      } catch (error) {
        if (error instanceof VersionConflictError) {
          states.delete(write.state.accountId);
          stateless.delete(write.state.accountId);
        }
        throw error;
      }
    },
  });
}
