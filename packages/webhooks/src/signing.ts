import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks `v1` signatures (HMAC-SHA256), with node:crypto: the signed content is
 * `${id}.${timestamp}.${body}` over the exact bytes sent, the key the base64 after `whsec_`.
 * Checked against the spec's test vector and verified by the `standardwebhooks` library in tests.
 */
export const SECRET_PREFIX = "whsec_";

/** A new endpoint secret: 32 random bytes (the spec asks for 24–64), `whsec_` + base64. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

export function isSecret(value: string): boolean {
  if (!value.startsWith(SECRET_PREFIX)) return false;
  const key = Buffer.from(value.slice(SECRET_PREFIX.length), "base64");
  return key.length >= 24 && key.length <= 64;
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`;
}

/**
 * The `webhook-*` headers of one attempt. Several secrets (a rotation's overlap window) give a
 * space-separated list of signatures; a receiver accepts the message if any one verifies.
 */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": secrets.map((secret) => sign(secret, id, timestampSeconds, body)).join(" "),
  };
}
