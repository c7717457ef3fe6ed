import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import { streamEntries, withoutLogFiltering } from "@backing/dynamo";
import { consumeNotificationStream, type WebhookDeps } from "@backing/engine";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";

/** Where each shard was read up to: the last sequence number handled, or "done" for a closed shard. */
export interface CheckpointStore {
  load(): Promise<Record<string, string>>;
  save(checkpoints: Record<string, string>): Promise<void>;
}

export function memoryCheckpoints(): CheckpointStore {
  let saved: Record<string, string> = {};
  return {
    load: async () => ({ ...saved }),
    save: async (checkpoints) => {
      saved = { ...checkpoints };
    },
  };
}

/**
 * Checkpoints in a JSON file (written atomically by rename), outside the table: a checkpoint item
 * in the table would itself appear on the stream and keep the poller busy forever.
 */
export function fileCheckpoints(path: string): CheckpointStore {
  return {
    async load() {
      try {
        return JSON.parse(await readFile(path, "utf8")) as Record<string, string>;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
        throw error;
      }
    },
    async save(checkpoints) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, JSON.stringify(checkpoints));
      await rename(`${path}.tmp`, path);
    },
  };
}

export interface StreamPollerOptions {
  endpoint: string;
  tableName: string;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;
  checkpoints?: CheckpointStore;
  /** Pause between polls of an idle stream (AWS polls 4 times a second). */
  idleMs?: number;
  batchSize?: number;
  /** A record failing this many times is discarded (reported through onDiscard), as an ESM with bounded retries would. */
  maxRetries?: number;
  onDiscard?: (record: DynamoDBRecord, reason: string) => void;
}

const DONE = "done";
const SHARD_LIST_MAX_AGE_MS = 5_000;

/**
 * The local stand-in for a Lambda event source mapping on the table's stream (reference
 * serverless.md §2.5): DescribeStream → GetShardIterator → GetRecords on DynamoDB Local, records
 * reshaped into the Lambda `DynamoDBStreamEvent` and handed to the same handler, in order per
 * shard, parents before children. A partial batch response is honoured as Lambda does: read again
 * from the lowest failed sequence number; after `maxRetries` that record is discarded. The
 * checkpoint (last handled sequence per shard) is saved after every batch, so a restart resumes
 * where it stopped: it neither skips a record nor replays a shard.
 */
export class StreamPoller {
  private readonly streams: DynamoDBStreamsClient;
  private readonly checkpoints: CheckpointStore;
  private state: Record<string, string> = {};
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly retries = new Map<string, number>();
  private streamArn: string | undefined;
  /**
   * Per open shard, the iterator to read on from (where the last read or `skipToLatest` left it):
   * one GetRecords per shard and poll instead of a GetShardIterator first. Dropped on any failure,
   * which falls back to an iterator from the checkpoint.
   */
  private readonly resume = new Map<string, string>();
  /** The stream's shards as last described; listed again when a shard closes, and every few seconds. */
  private shardList: { shards: Shard[]; atMs: number } | null = null;

  constructor(private readonly options: StreamPollerOptions) {
    this.streams = new DynamoDBStreamsClient({
      endpoint: options.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    withoutLogFiltering(this.streams);
    this.checkpoints = options.checkpoints ?? memoryCheckpoints();
  }

  private async arn(): Promise<string> {
    if (this.streamArn) return this.streamArn;
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const client = new DynamoDBClient({
      endpoint: this.options.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const table = await client.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.options.tableName} has no stream`);
    this.streamArn = arn;
    return arn;
  }

  private async shards(arn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: arn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  /**
   * Skips what the stream holds now (Lambda's StartingPosition LATEST): every shard closed now
   * counts as read, and every open one is read from its current end. Records written after this
   * resolves are all read. The demo starts its poller so, after seeding the book: the seed's
   * records hold no notification.
   */
  async skipToLatest(): Promise<void> {
    const arn = await this.arn();
    this.state = await this.checkpoints.load();
    for (const shard of await this.shards(arn)) {
      const key = `${arn}/${shard.ShardId}`;
      if (shard.SequenceNumberRange?.EndingSequenceNumber) {
        this.state[key] = DONE;
        continue;
      }
      const { ShardIterator } = await this.streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: "LATEST" }),
      );
      if (ShardIterator) this.resume.set(key, ShardIterator);
    }
    await this.checkpoints.save(this.state);
  }

  /** Reads every shard up to its current end once; returns the number of records handed over. */
  async pollOnce(): Promise<number> {
    const arn = await this.arn();
    this.state = await this.checkpoints.load();
    if (!this.shardList || Date.now() - this.shardList.atMs > SHARD_LIST_MAX_AGE_MS)
      this.shardList = { shards: await this.shards(arn), atMs: Date.now() };
    const { shards } = this.shardList;
    const known = new Set(shards.map((s) => s.ShardId));
    let handled = 0;
    // Parents first: a child shard is read only once its parent is done (or gone from the stream).
    for (let pass = 0; pass < shards.length; pass++) {
      let progressed = false;
      for (const shard of shards) {
        const id = shard.ShardId as string;
        if (this.state[`${arn}/${id}`] === DONE) continue;
        const parent = shard.ParentShardId;
        if (parent && known.has(parent) && this.state[`${arn}/${parent}`] !== DONE) continue;
        handled += await this.readShard(arn, shard);
        progressed = true;
      }
      if (!progressed) break;
    }
    return handled;
  }

  private async iterator(arn: string, shardId: string, after: string | undefined, at?: string) {
    const response = await this.streams.send(
      new GetShardIteratorCommand({
        StreamArn: arn,
        ShardId: shardId,
        ShardIteratorType: at ? "AT_SEQUENCE_NUMBER" : after ? "AFTER_SEQUENCE_NUMBER" : "TRIM_HORIZON",
        ...(at ? { SequenceNumber: at } : after ? { SequenceNumber: after } : {}),
      }),
    );
    return response.ShardIterator;
  }

  private async readShard(arn: string, shard: Shard): Promise<number> {
    const id = shard.ShardId as string;
    const key = `${arn}/${id}`;
    const resumed = this.resume.get(key);
    this.resume.delete(key);
    let iterator = resumed ?? (await this.iterator(arn, id, this.state[key]));
    let handled = 0;
    // The page after the one in hand, read while the handler works on it (as an event source
    // mapping reads ahead); dropped when the handler fails and the shard is read again.
    let ahead: { iterator: string; page: Promise<GetRecordsCommandOutput> } | undefined;
    const read = (from: string) =>
      this.streams.send(new GetRecordsCommand({ ShardIterator: from, Limit: this.options.batchSize ?? 100 }));
    while (iterator && !this.stopping) {
      let page: GetRecordsCommandOutput;
      try {
        page = ahead?.iterator === iterator ? await ahead.page : await read(iterator);
      } catch (error) {
        ahead = undefined;
        // A kept iterator may have expired: read again from the checkpoint.
        if (iterator !== resumed) throw error;
        iterator = await this.iterator(arn, id, this.state[key]);
        continue;
      }
      ahead = undefined;
      const records = page.Records ?? [];
      if (records.length === 0) {
        // An open shard with nothing new: stop here until the next poll. A closed one is done.
        if (!page.NextShardIterator) {
          this.state[key] = DONE;
          await this.checkpoints.save(this.state);
          // Its children may be new: describe the stream again on the next poll.
          this.shardList = null;
        } else this.resume.set(key, page.NextShardIterator);
        return handled;
      }
      if (page.NextShardIterator) {
        const following = read(page.NextShardIterator);
        following.catch(() => {}); // a failed read-ahead is read again in turn
        ahead = { iterator: page.NextShardIterator, page: following };
      }
      const event: DynamoDBStreamEvent = { Records: records.map((r) => toLambdaRecord(r, arn)) };
      const response = await this.options.handler(event).catch((error: unknown) => ({
        batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber ?? "" }],
        error,
      }));
      const failures = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      if (failures.length === 0) {
        this.state[key] = records[records.length - 1]?.dynamodb?.SequenceNumber as string;
        await this.checkpoints.save(this.state);
        handled += records.length;
        iterator = page.NextShardIterator;
        continue;
      }
      // Lambda retries from the lowest failed sequence number; everything before it is done.
      const lowest = failures.reduce((a, b) => (BigInt(a) <= BigInt(b) ? a : b));
      const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === lowest);
      const before = records[index - 1]?.dynamodb?.SequenceNumber;
      if (before) this.state[key] = before;
      handled += Math.max(index, 0);
      const tries = (this.retries.get(lowest) ?? 0) + 1;
      this.retries.set(lowest, tries);
      if (tries > (this.options.maxRetries ?? 5)) {
        const failed = records[index];
        if (failed) this.options.onDiscard?.(toLambdaRecord(failed, arn), `failed ${tries} times`);
        this.state[key] = lowest;
        this.retries.delete(lowest);
        await this.checkpoints.save(this.state);
        iterator = await this.iterator(arn, id, lowest);
      } else {
        await this.checkpoints.save(this.state);
        iterator = await this.iterator(arn, id, undefined, lowest);
      }
    }
    return handled;
  }

  /** Polls until stopped. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        const handled = await this.pollOnce();
        if (handled === 0 && !this.stopping)
          await new Promise((r) => setTimeout(r, this.options.idleMs ?? 250));
      }
    })();
  }

  /**
   * Finishes the batch in hand, saves the checkpoint and stops; with `drain`, first reads on until
   * nothing new is left (a graceful shutdown that leaves no written record unhandled).
   */
  async stop(options: { drain?: boolean } = {}): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = null;
    if (options.drain) {
      // DynamoDB Local publishes stream records a moment after the write: stop only after a few
      // quiet polls in a row.
      this.stopping = false;
      for (let quiet = 0; quiet < 3; ) {
        if ((await this.pollOnce()) > 0) quiet = 0;
        else {
          quiet++;
          await new Promise((r) => setTimeout(r, this.options.idleMs ?? 250));
        }
      }
      this.stopping = true;
    }
    this.streams.destroy();
  }
}

type Image = Record<string, unknown>;

/**
 * The streams client (3.1141) deserialises an empty map `{"M":{}}` as `{}`, an attribute value
 * with no type, which `unmarshall` rejects; Lambda delivers `{"M":{}}`. An untyped empty value can
 * only have been an empty map (empty lists survive as `{"L":[]}`), so it is put back as one.
 */
function repairEmptyMaps(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const attribute = value as Record<string, unknown>;
  const keys = Object.keys(attribute);
  if (keys.length === 0) return { M: {} };
  if (keys.length === 1 && keys[0] === "M") return { M: repairImage(attribute.M as Image) };
  if (keys.length === 1 && keys[0] === "L") return { L: (attribute.L as unknown[]).map(repairEmptyMaps) };
  return value;
}

const repairImage = (image: Image | undefined) =>
  image ? Object.fromEntries(Object.entries(image).map(([k, v]) => [k, repairEmptyMaps(v)])) : image;

/** Local records lack `eventSourceARN`, carry a Date where Lambda has epoch seconds, and name TTL deletes oddly. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  const { NewImage, OldImage, ...rest } = record.dynamodb ?? {};
  return {
    ...(record as DynamoDBRecord),
    eventName: (record.eventName as string) === "UNKNOWN_TO_SDK_VERSION" ? "REMOVE" : record.eventName,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(rest as DynamoDBRecord["dynamodb"]),
      ...(NewImage ? { NewImage: repairImage(NewImage as Image) } : {}),
      ...(OldImage ? { OldImage: repairImage(OldImage as Image) } : {}),
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
    },
  } as DynamoDBRecord;
}

/**
 * The table's stream polled into the notify handler's code, as in AWS: every notification written
 * goes out as webhooks (the demo's and the replay's short-lived tables: no checkpoint file).
 */
export function notificationPoller(endpoint: string, tableName: string, deps: WebhookDeps): StreamPoller {
  return new StreamPoller({
    endpoint,
    tableName,
    idleMs: 50,
    batchSize: 1000,
    handler: (event) => consumeNotificationStream(deps, streamEntries(event.Records), () => {}),
  });
}
