import type { Kernel } from "../../kernel/types.ts";

/** Clerk's instance id for this world: the `kid` of its signing key and `instance_id` of its events. */
export const instanceId = (k: Kernel) => `ins_${k.world().worldId}`;

/**
 * Queues one svix-signed message per subscribed endpoint. The envelope follows Clerk's
 * `WebhookEventPayload` (object, type, timestamp in ms of the run clock, instance_id, data).
 */
export function emitAuthEvent(k: Kernel, type: string, data: Record<string, unknown>): void {
  const targets = k.endpoints.subscribers("auth", type);
  if (targets.length === 0) return;
  const body = JSON.stringify({
    data,
    event_attributes: { http_request: { client_ip: "127.0.0.1", user_agent: "Molar-Clones" } },
    instance_id: instanceId(k),
    object: "event",
    timestamp: k.clock.now(),
    type,
  });
  for (const e of targets) {
    k.outbox.enqueue({ kind: "auth", url: e.url, event: type, eventId: `msg_${k.ids.make("", 27)}`, body, secret: e.secret, endpointId: e.id });
  }
}
