import type { DepthSnapshot } from "@backing/contracts";

/** Storing a snapshot keeps the latest per asset: an older one than the stored is refused. */
export type DepthWriteResult = { stored: true } | { stored: false; latest: string };

/** The venue's latest order-book snapshot per asset (DESIGN §3.11), for the scheduled stress and exposure jobs. */
export interface DepthRepository {
  getDepth(): Promise<DepthSnapshot[]>;
  /** Stores `snapshot` unless the asset's stored one has a later timestamp (`latest`). */
  putDepth(snapshot: DepthSnapshot): Promise<DepthWriteResult>;
}
