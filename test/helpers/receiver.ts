import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** Verified with the standardwebhooks library against the endpoint's secrets. */
  verified: boolean;
  path: string;
  atMs: number;
}

/** What the receiver answers to a request (the nth to this path, from 1). */
export type Behaviour = (
  received: ReceivedWebhook,
  n: number,
) => number | "hang" | "close" | { status: number; headers: Record<string, string> };

/**
 * A venue's webhook endpoint on loopback: verifies every signature with `standardwebhooks`
 * (`Webhook.verify`, 5-minute tolerance) using the secrets the test gives it per path, records
 * everything, and answers as told.
 */
export async function startReceiver(options: {
  secrets: (path: string) => string[];
  behaviour?: Behaviour;
  clock?: () => number;
}) {
  const received: ReceivedWebhook[] = [];
  const counts = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
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
      const verified = options.secrets(path).some((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      const entry: ReceivedWebhook = {
        id: headers["webhook-id"],
        timestamp: headers["webhook-timestamp"],
        signature: headers["webhook-signature"],
        body,
        verified,
        path,
        atMs: (options.clock ?? Date.now)(),
      };
      received.push(entry);
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const answer = options.behaviour?.(entry, n) ?? 200;
      if (answer === "hang") {
        hanging.add(response);
        return;
      }
      if (answer === "close") {
        request.socket.destroy();
        return;
      }
      const { status, headers: extra } =
        typeof answer === "number" ? { status: answer, headers: {} } : answer;
      response.writeHead(status, extra).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    async close() {
      for (const response of hanging) response.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
