import { z } from "zod";
import { NotificationType } from "./events.ts";
import { Account, PriceQuote } from "./portfolio.ts";
import { assetRecord, Identifier, Name } from "./primitives.ts";

/** Webhook URLs: the common browser and CDN ceiling. */
export const MAX_URL_LENGTH = 2048;

/**
 * The HTTP API's own documents (DESIGN §6). Accounts, price events, portfolio documents and
 * params sets are the contracts of the rest of the system; these are the API's requests and replies.
 */

/** PUT /v1/accounts/{id}: the account document; `id` and `venue` may be left out (the path and the key say them). */
export const AccountPut = Account.extend({
  id: Account.shape.id.optional(),
  venue: Account.shape.venue.optional(),
});

/** What-if on a stored account: its latest prices with some replaced. */
export const StoredWhatIf = z.strictObject({
  accountId: Identifier("an account id"),
  prices: assetRecord(PriceQuote).default({}),
});

export const WebhookTypes = z
  .array(z.enum([...NotificationType.options, "report.exposure.ready", "report.stress.ready"]))
  .min(1);

export const EndpointCreate = z.strictObject({
  url: z
    .string({ error: "expected a URL" })
    .min(1, { error: "expected a URL" })
    .max(MAX_URL_LENGTH, { error: `expected a URL of at most ${MAX_URL_LENGTH} characters` }),
  types: WebhookTypes,
  /** Operators (admin key) only: the venue the endpoint belongs to. */
  venue: Identifier("a venue id").optional(),
});

export const EndpointPatch = z.strictObject({
  enabled: z.boolean().optional(),
  types: WebhookTypes.optional(),
});

export const SecretRotation = z.strictObject({
  /** How long the old secret keeps signing next to the new one. */
  overlapHours: z.number().min(0).max(168).default(24),
});

export const ApiKeyCreate = z.strictObject({
  /** The venue the key acts for; null for another operator (admin) key. */
  venue: Identifier("a venue id").nullable(),
  label: Name("a label", 100),
});

/** What became of one price event (DESIGN §3.6's guards): `reason` on every outcome but a plain `accepted`. */
export const PriceEventOutcome = z.object({
  eventId: z.string(),
  asset: z.string(),
  outcome: z.enum(["accepted", "held", "stale", "duplicate", "out-of-order", "rejected"]),
  reason: z.string().optional(),
});
export type PriceEventOutcome = z.infer<typeof PriceEventOutcome>;

/** POST /v1/prices's answer (202): each event's outcome, in request order, and what the tick did. */
export const PriceIngestResult = z.object({
  events: z.array(PriceEventOutcome),
  /** Accounts whose bands the moves left. */
  triggered: z.number().int(),
  /** Shard tasks the recompute went out as (0: recomputed inline). */
  queued: z.number().int(),
  evaluated: z.number().int(),
  notifications: z.record(z.string(), z.number().int()),
});

/** RFC 9457 problem details, with the offending paths of a validation error. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** An endpoint as the API shows it: the secrets only on creation and rotation. */
export const EndpointView = z.object({
  id: z.string(),
  venue: z.string(),
  url: z.string(),
  types: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().optional(),
  createdAt: z.string(),
  secret: z.string().optional(),
});

export const ImportResult = z.object({
  imported: z.number().int(),
  failed: z.number().int(),
  errors: z.array(
    z.object({
      line: z.number().int(),
      errors: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
  ),
});
