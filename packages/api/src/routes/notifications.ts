import {
  deliveryStatusOf,
  explainNotification,
  type NotificationRecord,
  replayParked,
} from "@backing/engine";
import type { Principal } from "../auth.ts";
import { ApiProblem, notFound } from "../problem.ts";

import { type Api, type RouteContext, venueOf, visible } from "./context.ts";

export function notificationsRoutes(app: Api, ctx: RouteContext): void {
  const { deps, webhooks } = ctx;

  const ownNotification = async (principal: Principal, id: string): Promise<NotificationRecord> => {
    const notification = await deps.store.getNotification(id);
    if (!notification || !visible(principal, notification.venue)) throw notFound(`notification ${id}`);
    return notification;
  };

  app.get("/v1/notifications", async (c) => {
    const principal = c.get("principal");
    const venue = venueOf(principal, c.req.query("venue"));
    const limit = Number(c.req.query("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new ApiProblem(422, "Validation failed", "limit is 1 to 500", [
        { path: "limit", message: "an integer from 1 to 500" },
      ]);
    const before = c.req.query("before");
    const page = await deps.store.venueNotifications(venue, { limit, ...(before ? { before } : {}) });
    return c.json({
      notifications: page.notifications.map((n) => ({
        id: n.id,
        type: n.type,
        accountId: n.accountId,
        createdAt: new Date(n.createdAtMs).toISOString(),
        payload: n.payload,
      })),
      next: page.next,
    });
  });

  app.get("/v1/notifications/:id", async (c) => {
    const notification = await ownNotification(c.get("principal"), c.req.param("id"));
    const deliveries = await deps.store.getDeliveries(notification.id);
    return c.json({
      id: notification.id,
      type: notification.type,
      venue: notification.venue,
      accountId: notification.accountId,
      createdAt: new Date(notification.createdAtMs).toISOString(),
      payload: notification.payload,
      delivery: deliveryStatusOf(deliveries),
      deliveries: deliveries.map((d) => ({
        endpointId: d.endpointId,
        status: d.status,
        attempts: d.attempts,
      })),
    });
  });

  app.post("/v1/notifications/:id/redeliver", async (c) => {
    const notification = await ownNotification(c.get("principal"), c.req.param("id"));
    const replayed = await replayParked(webhooks, notification.id, { delivered: true });
    return c.json({ id: notification.id, replayed }, 202);
  });

  app.get("/v1/notifications/:id/explain", async (c) => {
    const notification = await ownNotification(c.get("principal"), c.req.param("id"));
    return c.json(await explainNotification(deps.store, notification.id));
  });
}
