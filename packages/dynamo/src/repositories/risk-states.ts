import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { RiskStateRepository } from "@backing/engine";
import { type StateWrite, type StoredRiskState, VersionConflictError } from "@backing/engine";
import { decodedDocument, encodedDocument } from "../documents.ts";
import { notificationItem } from "../items.ts";
import { keys } from "../keys.ts";
import type { TableClient, TransactItem } from "../table-client.ts";

/** Risk states, written with their outbox items in one transaction (the transactional outbox). */
export class DynamoRiskStates implements RiskStateRepository {
  constructor(private readonly table: TableClient) {}

  async getRiskStates(ids: readonly string[]): Promise<Map<string, StoredRiskState>> {
    const items = await this.table.batchGet(ids.map((id) => keys.riskState(id)));
    return new Map(
      items.map((item) => [item.accountId as string, decodedDocument<StoredRiskState>(item.state)]),
    );
  }

  async writeState(write: StateWrite): Promise<void> {
    try {
      await this.table.documents.send(
        new TransactWriteCommand({ TransactItems: this.stateWriteItems(write) }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException)
        throw new VersionConflictError(write.state.accountId, { cause: error });
      throw error;
    }
  }

  /** Many accounts' state writes grouped in transactions; each account's state and notifications together. */
  async writeStates(writes: readonly StateWrite[]): Promise<Set<string>> {
    return this.table.transactEach(
      writes.map((write) => ({ key: write.state.accountId, items: this.stateWriteItems(write) })),
    );
  }

  /** An account's state put (conditional on the version read) and its notifications' puts. */
  private stateWriteItems({ state, previous, notifications }: StateWrite): TransactItem[] {
    const expectedVersion = previous?.version ?? null;
    return [
      {
        Put: {
          TableName: this.table.tableName,
          Item: {
            ...keys.riskState(state.accountId),
            // Indexed while its episode is open and not yet expired (the expiry job's read).
            ...(state.episode && !state.episode.expiredNotified
              ? keys.openEpisode(state.episode.deadlineMs, state.accountId)
              : {}),
            type: "risk-state",
            accountId: state.accountId,
            state: encodedDocument(state),
            version: state.version,
          },
          ...(expectedVersion === null
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : {
                ConditionExpression: "version = :expected",
                ExpressionAttributeValues: { ":expected": expectedVersion },
              }),
        },
      },
      ...notifications.map(
        (n): TransactItem => ({
          Put: {
            TableName: this.table.tableName,
            Item: notificationItem(n),
            ConditionExpression: "attribute_not_exists(pk)",
          },
        }),
      ),
    ];
  }

  async dueEpisodes(nowMs: number): Promise<string[]> {
    const ids: string[] = [];
    const pages = this.table.queryPages({
      index: "gsi1",
      partition: keys.openEpisode(0, "").gsi1pk,
      sort: { op: "<=", value: `${String(nowMs).padStart(15, "0")}#\uffff` },
    });
    for await (const page of pages)
      for (const item of page) {
        const episode = decodedDocument<StoredRiskState>(item.state).episode;
        if (episode && !episode.expiredNotified && episode.deadlineMs <= nowMs)
          ids.push(item.accountId as string);
      }
    return ids;
  }
}
