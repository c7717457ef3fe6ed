/**
 * An API key as stored: the SHA-256 of its secret (the secret is shown once, at creation), whose
 * it is (a venue, or null for an operator's admin key) and a label.
 */
export interface ApiKeyRecord {
  hash: string;
  venue: string | null;
  label: string;
  createdAtMs: number;
}

/** The API keys, by the hash of their secret. */
export interface ApiKeyRepository {
  putApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKey(hash: string): Promise<ApiKeyRecord | null>;
}
