import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One request as a venue saw it. */
export interface ReceivedWebhook {
  path: string;
  id: string;
  type: string;
  /** The payload's `timestamp`: when the notification was created (event time in a replay). */
  createdAt: string;
  verified: boolean;
  status: number;
  atMs: number;
}

/**
 * The demo's venue side: an HTTP server on 127.0.0.1 that checks every webhook with the
 * `standardwebhooks` library (`Webhook.verify`: signature and a 5-minute timestamp tolerance)
 * against the endpoint's secrets, records it, and answers 2xx — or 503 where `fail` says so, to
 * show retries.
 */
export async function startWebhookReceiver(options: {
  secrets: (path: string) => string[];
  /** `attempt` counts the requests of this webhook-id to this path. */
  fail?: (path: string, id: string, attempt: number) => boolean;
  clock?: () => number;
}) {
  const received: ReceivedWebhook[] = [];
  const attempts = new Map<string, number>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": String(request.headers["webhook-id"] ?? ""),
        "webhook-timestamp": String(request.headers["webhook-timestamp"] ?? ""),
        "webhook-signature": String(request.headers["webhook-signature"] ?? ""),
      };
      const path = request.url ?? "/";
      let type = "";
      let createdAt = "";
      const verified = options.secrets(path).some((secret) => {
        try {
          ({ type, timestamp: createdAt } = new Webhook(secret).verify(body, headers) as {
            type: string;
            timestamp: string;
          });
          return true;
        } catch {
          return false;
        }
      });
      const key = `${path} ${headers["webhook-id"]}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const status = !verified ? 401 : options.fail?.(path, headers["webhook-id"], attempt) ? 503 : 204;
      received.push({
        path,
        id: headers["webhook-id"],
        type,
        createdAt,
        verified,
        status,
        atMs: (options.clock ?? Date.now)(),
      });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
