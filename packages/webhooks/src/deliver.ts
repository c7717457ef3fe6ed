import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import {
  checkEndpointUrl,
  EndpointRefusedError,
  type GuardOptions,
  type Resolver,
  resolvePinned,
} from "./address-guard.ts";
import { parseRetryAfter } from "./schedule.ts";
import { webhookHeaders } from "./signing.ts";

/** One HTTP POST to an address that has already passed the guard. */
export interface WebhookRequest {
  url: URL;
  /** The checked address: the connection goes here and nowhere else. */
  address: string;
  family: 4 | 6;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface WebhookResponse {
  status: number;
  retryAfter?: string;
}

/** The connect-and-send step, injectable so SSRF tests can prove no packet would leave. */
export type Transport = (request: WebhookRequest) => Promise<WebhookResponse>;

const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
};
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Starts the request's timeout; returns its cancel. Injectable: tests fire it when they choose. */
export type TimeoutTimer = (ms: number, onTimeout: () => void) => () => void;

const wallClockTimer: TimeoutTimer = (ms, onTimeout) => {
  const timer = setTimeout(onTimeout, ms);
  return () => clearTimeout(timer);
};

/**
 * POST with node:http(s), pinned to the checked address through `lookup` (and the URL's host name
 * kept for TLS SNI and the Host header). Redirects are not followed (a 3xx is a failure), the body
 * of the answer is read up to 64 KB and dropped, and the whole exchange is cut at `timeoutMs`.
 */
export const httpTransportWith =
  (startTimeout: TimeoutTimer = wallClockTimer): Transport =>
  (request) =>
    new Promise((resolve, reject) => {
      const { url, address, family } = request;
      const secure = url.protocol === "https:";
      const client = secure ? https : http;
      const host = url.hostname.replace(/^\[|\]$/g, "");
      const outgoing = client.request(
        {
          method: "POST",
          host,
          port: url.port || (secure ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          agent: agents[secure ? "https:" : "http:"],
          headers: {
            ...request.headers,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(request.body),
            "user-agent": "Backing-Webhooks/1",
          },
          lookup: (_hostname, options, callback) => {
            if ((options as { all?: boolean }).all) callback(null, [{ address, family }]);
            else (callback as (e: null, a: string, f: number) => void)(null, address, family);
          },
          ...(secure && isIP(host) === 0 ? { servername: host } : {}),
        },
        (response) => {
          let received = 0;
          response.on("data", (chunk: Buffer) => {
            received += chunk.length;
            if (received > MAX_RESPONSE_BYTES) response.destroy();
          });
          const done = () => {
            cancelTimeout();
            const retryAfter = response.headers["retry-after"];
            resolve({ status: response.statusCode ?? 0, ...(retryAfter ? { retryAfter } : {}) });
          };
          response.on("end", done);
          response.on("close", done);
          response.on("error", done);
        },
      );
      const cancelTimeout = startTimeout(request.timeoutMs, () =>
        outgoing.destroy(new Error(`no answer within ${request.timeoutMs / 1000} s`)),
      );
      outgoing.on("error", (error) => {
        cancelTimeout();
        reject(error);
      });
      outgoing.end(request.body);
    });

export const httpTransport: Transport = httpTransportWith();

export const dnsResolver: Resolver = async (host) =>
  (await lookup(host, { all: true })).map(({ address, family }) => ({ address, family: family as 4 | 6 }));

export interface DeliveryEnvironment {
  guard: GuardOptions;
  resolver: Resolver;
  transport: Transport;
  /** 10 s (DESIGN §5). */
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export type AttemptResult = "delivered" | "failed" | "gone" | "throttled";

export interface AttemptOutcome {
  result: AttemptResult;
  status?: number;
  error?: string;
  retryAfterMs?: number;
}

/**
 * One delivery attempt: check the URL, resolve and pin, sign with every current secret, POST.
 * 2xx delivered; 410 gone (the endpoint is to be disabled); 429 throttled (Retry-After honoured
 * by the caller); anything else, a refused address, a timeout or a broken connection: failed.
 */
export async function attemptWebhook(
  environment: DeliveryEnvironment,
  target: { url: string; secrets: readonly string[] },
  message: { id: string; body: string; nowMs: number },
): Promise<AttemptOutcome> {
  try {
    const url = checkEndpointUrl(target.url, environment.guard);
    const pinned = await resolvePinned(url, environment.resolver, environment.guard);
    const headers = webhookHeaders(
      target.secrets,
      message.id,
      Math.floor(message.nowMs / 1000),
      message.body,
    );
    const response = await environment.transport({
      url,
      ...pinned,
      headers,
      body: message.body,
      timeoutMs: environment.timeoutMs,
    });
    const { status } = response;
    if (status >= 200 && status < 300) return { result: "delivered", status };
    if (status === 410) return { result: "gone", status };
    const retryAfterMs = parseRetryAfter(response.retryAfter, message.nowMs);
    if (status === 429)
      return { result: "throttled", status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    return { result: "failed", status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  } catch (error) {
    const refused = error instanceof EndpointRefusedError;
    return { result: "failed", error: `${refused ? "refused: " : ""}${(error as Error).message}` };
  }
}

/**
 * The delivery environment of a real process: https only, system DNS, node:http(s), 10 s. The
 * local runtime (and its tests) pass `allowLoopback` to reach receivers on this machine.
 */
export function deliveryEnvironment(options: { allowLoopback: boolean }): DeliveryEnvironment {
  return {
    guard: { requireHttps: true, allowLoopback: options.allowLoopback },
    resolver: dnsResolver,
    transport: httpTransport,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  };
}
