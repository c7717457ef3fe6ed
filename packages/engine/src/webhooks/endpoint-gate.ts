/**
 * What keeps one venue's slow or hanging endpoint from slowing the others' deliveries, per
 * process: which endpoints were found slow lately, and the attempts still in flight after their
 * batch went on without them.
 */
import type { DeliveryEnvironment } from "@backing/webhooks";
import type { WebhookDeps } from "./deps.ts";

/** Deliveries to one endpoint that notify sends at once, per process (every endpoint at once). */
export const PER_ENDPOINT_SENDS = 32;

/**
 * How long a batch waits for an attempt before it goes on and leaves the attempt to finish alone:
 * the outbox-to-delivery p99 target (DESIGN §8), which a slower endpoint misses anyway.
 */
export const INLINE_BUDGET_MS = 500;

/** How long an endpoint found slow gets its new deliveries through the redeliver job, not inline. */
export const SLOW_FOR_MS = 30_000;

export class EndpointGate {
  private readonly slowUntil = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly sending = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  /**
   * A send slot for the endpoint (at most PER_ENDPOINT_SENDS taken at once), waiting for one if
   * need be; false, without one, once the endpoint is slow.
   */
  async slot(endpointId: string, now: () => number): Promise<boolean> {
    for (;;) {
      if (this.isSlow(endpointId, now())) return false;
      const taken = this.sending.get(endpointId) ?? 0;
      if (taken < PER_ENDPOINT_SENDS) {
        this.sending.set(endpointId, taken + 1);
        return true;
      }
      await new Promise<void>((wake) => {
        const waiters = this.waiting.get(endpointId);
        if (waiters) waiters.push(wake);
        else this.waiting.set(endpointId, [wake]);
      });
    }
  }

  release(endpointId: string): void {
    this.sending.set(endpointId, (this.sending.get(endpointId) ?? 1) - 1);
    this.wake(endpointId, 1);
  }

  private wake(endpointId: string, count: number): void {
    const waiters = this.waiting.get(endpointId) ?? [];
    for (const wake of waiters.splice(0, count)) wake();
  }

  isSlow(endpointId: string, nowMs: number): boolean {
    return (this.slowUntil.get(endpointId) ?? 0) > nowMs;
  }

  /** Its waiting deliveries stop waiting for a slot: they go to the redeliver job. */
  markSlow(endpointId: string, nowMs: number): void {
    this.slowUntil.set(endpointId, nowMs + SLOW_FOR_MS);
    this.wake(endpointId, Number.POSITIVE_INFINITY);
  }

  /**
   * For an endpoint found slow before whose slow spell is over: true for the one caller that
   * probes it (in the background); the others keep going to the redeliver job until the probe
   * comes back fast.
   */
  probe(endpointId: string, nowMs: number): boolean {
    const until = this.slowUntil.get(endpointId);
    if (until === undefined || until > nowMs) return false;
    this.slowUntil.set(endpointId, nowMs + SLOW_FOR_MS);
    return true;
  }

  markFast(endpointId: string): void {
    this.slowUntil.delete(endpointId);
  }

  /**
   * Keeps an attempt that outlived its batch, until it is recorded. If recording fails, nothing
   * is lost: the delivery stays pending under its lease and the redeliver job sends it again.
   */
  track(work: Promise<unknown>): void {
    const tracked: Promise<unknown> = work
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Resolves when every attempt left behind by a batch is recorded (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

/** One gate per delivery environment (one per process's composition). */
const gates = new WeakMap<DeliveryEnvironment, EndpointGate>();
export function endpointGate(deps: Pick<WebhookDeps, "delivery">): EndpointGate {
  let gate = gates.get(deps.delivery);
  if (!gate) {
    gate = new EndpointGate();
    gates.set(deps.delivery, gate);
  }
  return gate;
}
