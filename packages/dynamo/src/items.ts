import type { DeliveryRecord, NotificationRecord, StoredBand } from "@backing/engine";
import { encodedDocument } from "./documents.ts";
import { keys, unsortablePrice } from "./keys.ts";

import type { Item } from "./table-client.ts";

/** An outbox item: the notification, indexed by venue and time, pending delivery. */
export function notificationItem(n: NotificationRecord): Item {
  return {
    ...keys.notification(n.id),
    ...keys.notificationByVenue(n.venue, n.createdAtMs, n.id),
    type: "notification",
    notification: encodedDocument(n),
    delivery: "pending",
  };
}

/** A delivery item: in the due index while pending, in the failed index once parked. */
export function deliveryItem(d: DeliveryRecord): Item {
  const index =
    d.status === "pending"
      ? keys.deliveryIndex("DUE", d.nextAttemptAtMs ?? 0, d.notificationId, d.endpointId)
      : d.status === "failed"
        ? keys.deliveryIndex("FAILED", d.createdAtMs, d.notificationId, d.endpointId)
        : {};
  return { ...keys.delivery(d.notificationId, d.endpointId), ...index, type: "delivery", delivery: d };
}

export const assetOf = (exposureItem: Item) => (exposureItem.pk as string).split("#")[1] as string;

/**
 * An exposure item's band as indexed (edges rounded toward the inside; "~" for none, or "!" in
 * gsi2 on items written before; an edge left out of its index is one no price crosses).
 */
export function bandOfItem(item: Item): StoredBand {
  const low = item.gsi1sk as string | undefined;
  const high = item.gsi2sk as string | undefined;
  if (low === "~" || high === "!")
    return { accountId: item.accountId as string, asset: assetOf(item), low: null, high: null };
  return {
    accountId: item.accountId as string,
    asset: assetOf(item),
    low: low === undefined ? "0" : unsortablePrice(low),
    high: high === undefined ? "Infinity" : unsortablePrice(high),
  };
}
