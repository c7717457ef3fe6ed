import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApiKeyRecord, ApiKeyRepository } from "@backing/engine";

/** Who is calling: a venue's key (sees only that venue) or an operator's admin key (venue null). */
export interface Principal {
  venue: string | null;
  keyHash: string;
}

/** Keys are stored and compared as SHA-256 hex: a table dump reveals no usable key. */
export const hashKey = (key: string) => createHash("sha256").update(key, "utf8").digest("hex");

/** A new API key: `bk_` and 32 random bytes, base64url. Shown once; only its hash is kept. */
export const generateApiKey = () => `bk_${randomBytes(32).toString("base64url")}`;

const KEY_CACHE_MS = 60_000;

/**
 * Resolves a bearer key to its principal: the configured admin key hashes first (constant-time),
 * then the table, with a one-minute per-process cache so a burst of requests reads the key once.
 */
export function keyResolver(
  store: Pick<ApiKeyRepository, "getApiKey">,
  adminKeyHashes: readonly string[],
  now: () => number,
) {
  const admins = adminKeyHashes.map((h) => Buffer.from(h, "hex"));
  const cache = new Map<string, { record: ApiKeyRecord | null; atMs: number }>();
  return async (key: string): Promise<Principal | null> => {
    const keyHash = hashKey(key);
    const digest = Buffer.from(keyHash, "hex");
    if (admins.some((admin) => admin.length === digest.length && timingSafeEqual(admin, digest)))
      return { venue: null, keyHash };
    const cached = cache.get(keyHash);
    let record = cached && now() - cached.atMs < KEY_CACHE_MS ? cached.record : undefined;
    if (record === undefined) {
      record = await store.getApiKey(keyHash);
      if (cache.size > 10_000) cache.clear();
      cache.set(keyHash, { record, atMs: now() });
    }
    return record ? { venue: record.venue, keyHash } : null;
  };
}

/**
 * A token bucket per key: `perMinute` requests a minute on average, bursts up to `burst`. Per
 * process (per Lambda instance): a bound on one caller's share of an instance, not a global quota.
 */
export function rateLimiter(options: { perMinute: number; burst: number }, now: () => number) {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const refillPerMs = options.perMinute / 60_000;
  return (keyHash: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } => {
    const nowMs = now();
    const bucket = buckets.get(keyHash) ?? { tokens: options.burst, atMs: nowMs };
    bucket.tokens = Math.min(options.burst, bucket.tokens + (nowMs - bucket.atMs) * refillPerMs);
    bucket.atMs = nowMs;
    buckets.set(keyHash, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)),
    };
  };
}
