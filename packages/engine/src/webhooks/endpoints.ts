/** A venue registers its webhook endpoints and rotates their secrets. */
import { randomBytes } from "node:crypto";
import { NotificationType } from "@backing/contracts";
import { checkEndpointUrl, generateSecret, resolvePinned } from "@backing/webhooks";
import { EndpointInputError } from "../errors.ts";
import type { WebhookEndpoint } from "../ports/index.ts";
import type { WebhookDeps } from "./deps.ts";

export const WEBHOOK_TYPES: readonly string[] = NotificationType.options;
/** A rotated-out secret keeps signing (next to the new one) this long by default. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3_600_000;

export const activeSecrets = (endpoint: WebhookEndpoint, nowMs: number) =>
  endpoint.secrets.filter((s) => s.expiresAtMs === null || s.expiresAtMs > nowMs).map((s) => s.secret);

/**
 * Registers an endpoint for a venue: the URL passes the SSRF guard now (and again at every
 * connect), a `whsec_` secret is generated, the types must be known notification types.
 */
export async function registerEndpoint(
  deps: Pick<WebhookDeps, "store" | "now" | "delivery">,
  input: { venue: string; url: string; types: string[] },
): Promise<WebhookEndpoint> {
  const unknown = input.types.filter((t) => !WEBHOOK_TYPES.includes(t));
  if (input.types.length === 0 || unknown.length > 0)
    throw new EndpointInputError(
      `types must be some of ${WEBHOOK_TYPES.join(", ")}${unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""}`,
    );
  try {
    const url = checkEndpointUrl(input.url, deps.delivery.guard);
    await resolvePinned(url, deps.delivery.resolver, deps.delivery.guard);
  } catch (error) {
    throw new EndpointInputError(`endpoint refused: ${(error as Error).message}`, { cause: error });
  }
  const endpoint: WebhookEndpoint = {
    id: `ep_${randomBytes(12).toString("hex")}`,
    venue: input.venue,
    url: input.url,
    types: [...new Set(input.types)],
    secrets: [{ secret: generateSecret(), expiresAtMs: null }],
    enabled: true,
    createdAtMs: deps.now(),
  };
  await deps.store.putEndpoint(endpoint);
  return endpoint;
}

/** A new secret signs from now on; the old ones keep signing alongside it for `overlapMs`. */
export async function rotateSecret(
  deps: Pick<WebhookDeps, "store" | "now">,
  venue: string,
  endpointId: string,
  overlapMs = DEFAULT_ROTATION_OVERLAP_MS,
): Promise<WebhookEndpoint> {
  const endpoint = (await deps.store.listEndpoints(venue)).find((e) => e.id === endpointId);
  if (!endpoint) throw new EndpointInputError(`no endpoint ${endpointId} for venue ${venue}`);
  const nowMs = deps.now();
  const rotated: WebhookEndpoint = {
    ...endpoint,
    secrets: [
      { secret: generateSecret(), expiresAtMs: null },
      ...endpoint.secrets
        .filter((s) => s.expiresAtMs === null || s.expiresAtMs > nowMs)
        .map((s) => ({ secret: s.secret, expiresAtMs: s.expiresAtMs ?? nowMs + overlapMs })),
    ],
  };
  await deps.store.putEndpoint(rotated);
  return rotated;
}

/**
 * An endpoint with its types or its enabled flag changed (and saved). Taking new types, or being
 * enabled again, restarts its subscription: the account notifications made before are not waited
 * for (`precedingFor`), since it took none of them.
 */
export async function changeEndpoint(
  deps: Pick<WebhookDeps, "store" | "now">,
  endpoint: WebhookEndpoint,
  change: { types?: string[]; enabled?: boolean; disabledReason?: string },
): Promise<WebhookEndpoint> {
  const types = change.types ? [...new Set(change.types)] : endpoint.types;
  const enabled = change.enabled ?? endpoint.enabled;
  const resubscribed =
    types.length !== endpoint.types.length ||
    types.some((t) => !endpoint.types.includes(t)) ||
    (enabled && !endpoint.enabled);
  const { disabledReason: _, ...rest } = endpoint;
  const changed: WebhookEndpoint = {
    ...rest,
    types,
    enabled,
    ...(enabled ? {} : { disabledReason: change.disabledReason ?? endpoint.disabledReason ?? "disabled" }),
    ...(resubscribed ? { subscribedSinceMs: deps.now() } : {}),
  };
  await deps.store.putEndpoint(changed);
  return changed;
}
