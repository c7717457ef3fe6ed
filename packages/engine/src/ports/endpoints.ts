/** A venue's webhook endpoint (DESIGN §5): where, for which types, signed with which secrets. */
export interface WebhookEndpoint {
  id: string;
  venue: string;
  url: string;
  /** Notification types delivered to this endpoint. */
  types: string[];
  /** Signing secrets, current first; a rotated-out secret keeps signing until `expiresAtMs`. */
  secrets: { secret: string; expiresAtMs: number | null }[];
  enabled: boolean;
  disabledReason?: string;
  createdAtMs: number;
  /**
   * Since when it takes its current types (its types last changed or it was last enabled;
   * absent: since `createdAtMs`). An account's notifications made before are not waited for.
   */
  subscribedSinceMs?: number;
}

/** The venues' webhook endpoints. */
export interface EndpointRepository {
  putEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  listEndpoints(venue?: string): Promise<WebhookEndpoint[]>;
  deleteEndpoint(venue: string, id: string): Promise<void>;
}
