import {
  attemptWebhook,
  checkEndpointUrl,
  type DeliveryEnvironment,
  EndpointRefusedError,
  forbiddenRange,
  generateSecret,
  isSecret,
  nextAttemptAt,
  parseRetryAfter,
  RETRY_DELAYS_MS,
  sign,
  type Transport,
  webhookHeaders,
} from "@backing/webhooks";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";

describe("Standard Webhooks signatures", () => {
  it("reproduce the spec library's test vector", () => {
    // standard-webhooks libraries/javascript/src/webhook.test.ts
    expect(
      sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("verify with the standardwebhooks library, with either secret during a rotation", () => {
    const [old, current] = [generateSecret(), generateSecret()];
    expect(isSecret(old)).toBe(true);
    const now = Date.now();
    const body = JSON.stringify({
      type: "margin.call",
      timestamp: new Date(now).toISOString(),
      data: { account: "a-1" },
    });
    const headers = webhookHeaders([current, old], "ntf_1", Math.floor(now / 1000), body);
    expect(new Webhook(old).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(current).verify(body.replace("a-1", "a-2"), headers)).toThrow();
    const stale = webhookHeaders([current], "ntf_1", Math.floor(now / 1000) - 600, body);
    expect(() => new Webhook(current).verify(body, stale)).toThrow(/too old/);
  });
});

describe("retry schedule", () => {
  it("immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then parked", () => {
    expect(RETRY_DELAYS_MS.map((ms) => ms / 1000)).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(nextAttemptAt(1, 1_000)).toBe(6_000);
    expect(nextAttemptAt(8, 1_000)).toBeNull();
  });

  it("honours Retry-After (seconds or a date) when longer than the schedule", () => {
    expect(parseRetryAfter("120", 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
    expect(nextAttemptAt(1, 0, 120_000)).toBe(120_000);
    expect(nextAttemptAt(3, 0, 120_000)).toBe(30 * 60_000);
  });
});

describe("SSRF guard", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["10.0.0.1", "private"],
    ["172.20.1.1", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "CGNAT"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["::1", "loopback"],
    ["fd00::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::", "unspecified"],
    ["ff02::1", "multicast"],
    // Issue 17, defect 6: IPv4 carried inside IPv6 is judged as the IPv4 address it reaches.
    ["::169.254.169.254", "link-local"], // IPv4-compatible (the URL parser writes ::a9fe:a9fe)
    ["::a9fe:a9fe", "link-local"],
    ["::127.0.0.1", "loopback"],
    ["::ffff:0:a9fe:a9fe", "link-local"], // IPv4-translated (SIIT)
    ["64:ff9b::a9fe:a9fe", "link-local"], // NAT64 well-known prefix
    ["64:ff9b::10.0.0.1", "private"],
    ["2002:a9fe:a9fe::1", "link-local"], // 6to4
    ["2002:7f00:1::", "loopback"],
    ["2001::1", "tunnelled (Teredo or local-use NAT64)"], // Teredo: the target is not in the address
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "tunnelled (Teredo or local-use NAT64)"],
    ["64:ff9b:1::a9fe:a9fe", "tunnelled (Teredo or local-use NAT64)"], // local-use NAT64
  ])("refuses %s (%s)", (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each([
    "93.184.215.14",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:1.1.1.1",
    "64:ff9b::1.1.1.1",
    "2002:101:101::1",
  ])("allows the public address %s", (address) => {
    expect(forbiddenRange(address)).toBeNull();
  });

  const production = { requireHttps: true, allowLoopback: false };
  it("refuses at registration: http in production, IP literals in forbidden ranges, odd IPv4 forms", () => {
    expect(() => checkEndpointUrl("http://hooks.example.com/x", production)).toThrow(/only https/);
    for (const url of [
      "https://127.0.0.1/x",
      "https://10.0.0.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/x",
      "https://[fd00::1]/x",
      "https://2130706433/x",
      "https://0x7f.1/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[::169.254.169.254]/",
      "https://[::127.0.0.1]/",
      "https://[::ffff:0:a9fe:a9fe]/",
      "https://[2002:a9fe:a9fe::1]/",
      "https://[2001::1]/",
      "https://[64:ff9b::a9fe:a9fe]/",
      "https://[64:ff9b:1::1]/",
    ])
      expect(() => checkEndpointUrl(url, production), url).toThrow(EndpointRefusedError);
    expect(() => checkEndpointUrl("https://user:pw@hooks.example.com/", production)).toThrow(/credentials/);
    expect(() => checkEndpointUrl("ftp://hooks.example.com/", production)).toThrow(/not http/);
    expect(checkEndpointUrl("https://hooks.example.com/x", production).hostname).toBe("hooks.example.com");
    expect(
      checkEndpointUrl("http://127.0.0.1:9000/x", { requireHttps: true, allowLoopback: true }).port,
    ).toBe("9000");
  });

  /**
   * Delivery never reaches the connect step for a refused target: the transport below fails the
   * test if it is ever called with a non-loopback address, and no real socket exists here at all.
   */
  function guardedEnvironment(resolved: Record<string, string[]>) {
    const connects: string[] = [];
    const transport: Transport = async (request) => {
      connects.push(request.address);
      if (forbiddenRange(request.address) !== null && forbiddenRange(request.address) !== "loopback")
        throw new Error(`test failure: the guard let ${request.address} through`);
      return { status: 200 };
    };
    const environment: DeliveryEnvironment = {
      guard: production,
      resolver: async (host) =>
        (resolved[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
      transport,
      timeoutMs: 10_000,
    };
    return { environment, connects };
  }

  it("refuses at connect time a name that resolves to a private address (DNS rebinding), before any connect", async () => {
    const { environment, connects } = guardedEnvironment({
      "rebind.example.com": ["10.0.0.7"],
      "mixed.example.com": ["93.184.215.14", "169.254.169.254"],
      "compat.example.com": ["::a9fe:a9fe"],
      "sixtofour.example.com": ["2002:a9fe:a9fe::1"],
      "teredo.example.com": ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],
      "nat64.example.com": ["64:ff9b::a00:1"],
      "ok.example.com": ["93.184.215.14"],
    });
    const message = { id: "ntf_1", body: "{}", nowMs: 0 };
    for (const url of [
      "https://rebind.example.com/hook",
      "https://mixed.example.com/hook",
      "https://compat.example.com/hook",
      "https://sixtofour.example.com/hook",
      "https://teredo.example.com/hook",
      "https://nat64.example.com/hook",
      "https://127.0.0.1/hook",
      "https://10.0.0.1/hook",
      "https://169.254.169.254/hook",
      "https://[::1]/hook",
      "https://[fd00::1]/hook",
    ]) {
      const outcome = await attemptWebhook(environment, { url, secrets: [generateSecret()] }, message);
      expect(outcome.result, url).toBe("failed");
      expect(outcome.error, url).toMatch(/^refused: /);
    }
    expect(connects).toEqual([]);
    // A public name is pinned to the address that was checked.
    const ok = await attemptWebhook(
      environment,
      { url: "https://ok.example.com/hook", secrets: [generateSecret()] },
      message,
    );
    expect(ok.result).toBe("delivered");
    expect(connects).toEqual(["93.184.215.14"]);
  });
});
