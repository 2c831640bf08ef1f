// Events and webhook endpoints: every state change is an `event` (listed by /v1/events) and one
// outbox message per enabled endpoint subscribed to its type, signed when it is sent.
import { randomBase62 } from "../../lib/crypto.ts";
import { err } from "./errors.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { API_VERSION, LIST_PARAMS, listJson, listQuery, metadata, type Ctx, type Params } from "./wire.ts";

/** How long the `webhook_delay` preset holds a delivery back, on the run clock. */
export const WEBHOOK_DELAY_MS = 5 * 60_000;

/** Top-level fields of `before` that differ in `after`: an `*.updated` event's previous_attributes. */
export function changed(before: Obj, after: Obj): Record<string, unknown> {
  const prev: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) prev[key] = before[key] ?? null;
  }
  return prev;
}

/** Records an event and queues its deliveries, in the order the state changes happened. */
export function emit(s: Ctx, type: string, object: Obj, previous?: Record<string, unknown>): Obj {
  const { k, store } = s;
  const targets = store.all("webhook_endpoint").filter((e) => e.status === "enabled" && ((e.enabled_events as string[]).includes("*") || (e.enabled_events as string[]).includes(type)));
  const event: Obj = {
    id: newId(k, "event"),
    object: "event",
    api_version: API_VERSION,
    created: unixNow(k),
    data: previous ? { object, previous_attributes: previous } : { object },
    livemode: false,
    pending_webhooks: targets.length,
    request: { id: s.requestId, idempotency_key: s.idempotencyKey },
    type,
  };
  store.insert("event", event);
  if (targets.length === 0) return event;
  const delayMs = k.chaos.take("stripe", "webhook_delay") ? WEBHOOK_DELAY_MS : 0;
  const body = JSON.stringify(event, null, 2);
  for (const e of targets) {
    const secret = store.internal<{ secret: string }>("webhook_endpoint", e.id).secret;
    k.outbox.enqueue({ kind: "stripe", url: String(e.url), event: type, eventId: event.id, body, secret, endpointId: e.id, delayMs });
  }
  return event;
}

// ---- webhook endpoints ---------------------------------------------------------------------

const EVENT_TYPE = /^[a-z_]+(\.[a-z_]+)+$/;

function enabledEvents(p: Params, required: boolean): string[] | undefined {
  const list = p.strings("enabled_events");
  if (list === undefined) {
    if (required) throw err.missingParam("enabled_events");
    return undefined;
  }
  if (list.length === 0) throw err.missingParam("enabled_events");
  list.forEach((t, i) => {
    if (t !== "*" && !EVENT_TYPE.test(t)) throw err.invalid(`Invalid enabled_events[${i}]: ${t} is not a valid event type.`, { param: `enabled_events[${i}]` });
  });
  return list;
}

function endpointUrl(p: Params, required: boolean): string | undefined {
  const url = p.str("url", { required }) ?? undefined;
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw err.invalid("Invalid URL: An explicit scheme (such as https) must be provided.", { param: "url", code: "url_invalid" });
  }
  return url;
}

export function createEndpoint(s: Ctx, p: Params) {
  p.allow("url", "enabled_events", "description", "metadata", "api_version", "connect");
  const url = endpointUrl(p, true)!;
  const events = enabledEvents(p, true)!;
  const secret = `whsec_${randomBase62(32)}`;
  const e: Obj = {
    id: newId(s.k, "webhook_endpoint"),
    object: "webhook_endpoint",
    api_version: p.str("api_version") ?? null,
    application: null,
    created: unixNow(s.k),
    description: p.str("description") ?? null,
    enabled_events: events,
    livemode: false,
    metadata: metadata(p),
    status: "enabled",
    url,
  };
  s.store.insert("webhook_endpoint", e, { secret });
  return { ...e, secret };
}

export function updateEndpoint(s: Ctx, id: string, p: Params) {
  p.allow("url", "enabled_events", "description", "metadata", "disabled");
  const e = s.store.get("webhook_endpoint", id);
  const url = endpointUrl(p, false);
  const events = enabledEvents(p, false);
  const disabled = p.bool("disabled");
  const next: Obj = {
    ...e,
    url: url ?? e.url,
    enabled_events: events ?? e.enabled_events,
    description: p.has("description") ? (p.str("description") ?? null) : e.description,
    metadata: metadata(p, e.metadata as Record<string, string>),
    status: disabled === undefined ? e.status : disabled ? "disabled" : "enabled",
  };
  return s.store.save("webhook_endpoint", next);
}

export function deleteEndpoint(s: Ctx, id: string) {
  s.store.get("webhook_endpoint", id);
  s.store.remove("webhook_endpoint", id);
  return { id, object: "webhook_endpoint", deleted: true };
}

export function listEndpoints(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS);
  return listJson("/v1/webhook_endpoints", s.store.list("webhook_endpoint", listQuery(p)));
}

export function listEvents(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "type", "types", "delivery_success");
  const type = p.str("type") ?? undefined;
  const types = p.strings("types");
  if (type && types) throw err.invalid("You may only specify one of these parameters: type, types.", { param: "type" });
  // `type` may end with a wildcard: `charge.*`.
  const q = listQuery(p);
  if (type?.endsWith("*")) {
    const prefix = type.slice(0, -1);
    const all = s.store.list("event", { ...q, limit: 10_000 }).data.filter((e) => String(e.type).startsWith(prefix));
    return listJson("/v1/events", { data: all.slice(0, q.limit), has_more: all.length > q.limit });
  }
  return listJson("/v1/events", s.store.list("event", q, { type: types ?? type }));
}
