/**
 * What keeps one venue's slow or hanging endpoint from slowing the others' deliveries, per
 * process: which endpoints were found slow lately, and the attempts still in flight after their
 * batch went on without them.
 */
import type { DeliveryEnvironment } from "@backing/webhooks";
import type { WebhookDeps } from "./deps.ts";

/** Deliveries to one endpoint that one batch sends at once (the batch sends to every endpoint at once). */
export const PER_ENDPOINT_SENDS = 16;

/** How long a batch waits for an attempt before it goes on and leaves the attempt to finish alone. */
export const INLINE_BUDGET_MS = 1_000;

/** How long an endpoint found slow gets its new deliveries through the redeliver job, not inline. */
export const SLOW_FOR_MS = 30_000;

export class EndpointGate {
  private readonly slowUntil = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();

  isSlow(endpointId: string, nowMs: number): boolean {
    return (this.slowUntil.get(endpointId) ?? 0) > nowMs;
  }

  markSlow(endpointId: string, nowMs: number): void {
    this.slowUntil.set(endpointId, nowMs + SLOW_FOR_MS);
  }

  markFast(endpointId: string): void {
    this.slowUntil.delete(endpointId);
  }

  /** Keeps an attempt that outlived its batch, until it is recorded. */
  track(work: Promise<unknown>): void {
    const tracked = work.finally(() => this.inFlight.delete(tracked));
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
