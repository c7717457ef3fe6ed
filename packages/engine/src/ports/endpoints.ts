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
}

/** The venues' webhook endpoints. */
export interface EndpointRepository {
  putEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  listEndpoints(venue?: string): Promise<WebhookEndpoint[]>;
  deleteEndpoint(venue: string, id: string): Promise<void>;
}
