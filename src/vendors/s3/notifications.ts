// Bucket notifications. A configuration names SQS queues, SNS topics and Lambda functions by ARN
// (or EventBridge); the clone has none of those, so a destination is either an http(s) URL (the
// clone's own stand-in) or an ARN that the run's s3 webhook endpoints stand for: an endpoint made
// through the admin API with `events` listing ARNs receives those ARNs' messages, one without a
// list receives every destination's. The body is what the destination would get: the S3 event
// message ({"Records": [...]}) for queues, topics and functions, the EventBridge event for
// EventBridge, and s3:TestEvent when a configuration naming queues or topics is put.
import type { Kernel } from "../../kernel/types.ts";
import { S3Error, invalidArgument } from "./errors.ts";
import { bucketsChanged, requireBucket } from "./buckets.ts";
import type { XmlNode } from "./xml.ts";

export interface Destination {
  id: string;
  /** queue, topic, function (CloudFunctionConfiguration on the wire) */
  type: "Queue" | "Topic" | "CloudFunction";
  target: string;
  events: string[];
  prefix?: string;
  suffix?: string;
}

export interface NotificationConfig {
  destinations: Destination[];
  eventBridge: boolean;
}

const EVENTS = [
  "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
  "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
  "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
  "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
  "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
  "s3:ReducedRedundancyLostObject", "s3:Replication:*", "s3:IntelligentTiering", "s3:ObjectAcl:Put", "s3:LifecycleTransition",
];

const SERVICE: Record<Destination["type"], string> = { Queue: "sqs", Topic: "sns", CloudFunction: "lambda" };
const ARN = /^arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:\d{12}:.+$/;
const URL_TARGET = /^https?:\/\/[^\s]+$/;

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: unknown): string | undefined => (typeof v === "string" ? v.trim() : undefined);

/** A NotificationConfiguration document as S3 validates it. */
export function parseNotification(k: Kernel, doc: Record<string, unknown>): NotificationConfig {
  const destinations: Destination[] = [];
  const unreachable: string[] = [];
  for (const type of ["Queue", "Topic", "CloudFunction"] as const) {
    for (const raw of list(doc[`${type}Configuration`])) {
      const c = (raw ?? {}) as Record<string, unknown>;
      const target = text(c[type]);
      if (!target) throw new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
      const arn = ARN.exec(target);
      if (!(arn && arn[1] === SERVICE[type]) && !URL_TARGET.test(target)) unreachable.push(target);
      const events = list(c.Event).map(text).filter((e): e is string => !!e);
      if (!events.length) throw new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
      for (const e of events) if (!EVENTS.includes(e)) throw invalidArgument("The event is not supported for notifications", e, e);
      const d: Destination = { id: text(c.Id) || btoa(k.ids.uuid("s3notify")), type, target, events };
      const rules = list(((c.Filter as Record<string, unknown> | undefined)?.S3Key as Record<string, unknown> | undefined)?.FilterRule);
      for (const r of rules) {
        const name = text((r as Record<string, unknown>).Name)?.toLowerCase();
        const value = text((r as Record<string, unknown>).Value) ?? "";
        if (name !== "prefix" && name !== "suffix") throw invalidArgument("filter rule name must be either prefix or suffix", "FilterRule.Name", String(name));
        if (d[name] !== undefined) throw invalidArgument(`Cannot specify more than one ${name} rule in a filter.`, "FilterRule.Name", name);
        d[name] = value;
      }
      destinations.push(d);
    }
  }
  if (unreachable.length) {
    throw invalidArgument("Unable to validate the following destination configurations", unreachable.map((t) => `${t}, null`).join("; "), unreachable[0]);
  }
  const ids = new Set<string>();
  for (const d of destinations) {
    if (ids.has(d.id)) throw invalidArgument("Configuration ids must be unique", "Id", d.id);
    ids.add(d.id);
  }
  return { destinations, eventBridge: doc.EventBridgeConfiguration !== undefined };
}

export function notificationXml(c: NotificationConfig | null): XmlNode {
  const out: XmlNode = {};
  for (const type of ["Topic", "Queue", "CloudFunction"] as const) {
    const of = (c?.destinations ?? []).filter((d) => d.type === type);
    if (!of.length) continue;
    out[`${type}Configuration`] = of.map((d) => ({
      Id: d.id,
      [type]: d.target,
      Event: d.events,
      ...(d.prefix !== undefined || d.suffix !== undefined
        ? { Filter: { S3Key: { FilterRule: [...(d.prefix !== undefined ? [{ Name: "prefix", Value: d.prefix }] : []), ...(d.suffix !== undefined ? [{ Name: "suffix", Value: d.suffix }] : [])] } } }
        : {}),
    }));
  }
  if (c?.eventBridge) out.EventBridgeConfiguration = "";
  return out;
}

export function configOf(k: Kernel, bucket: string): NotificationConfig | null {
  const row = k.sql.exec<{ notification: string | null }>("SELECT notification FROM s3_buckets WHERE name = ?", bucket).toArray()[0];
  return row?.notification ? (JSON.parse(row.notification) as NotificationConfig) : null;
}

/** Stores a configuration and sends s3:TestEvent to its queues and topics, as S3 does. */
export function putNotification(k: Kernel, bucket: string, c: NotificationConfig, requestId: string): void {
  requireBucket(k, bucket);
  const empty = !c.destinations.length && !c.eventBridge;
  k.sql.exec("UPDATE s3_buckets SET notification = ? WHERE name = ?", empty ? null : JSON.stringify(c), bucket);
  bucketsChanged(k);
  const test = JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Time: new Date(k.clock.now()).toISOString(), Bucket: bucket, RequestId: requestId, HostId: requestId });
  for (const d of c.destinations) if (d.type !== "CloudFunction") deliver(k, d.target, "s3:TestEvent", test);
}

export interface Notified {
  key: string;
  size?: number;
  etag?: string;
  versionId?: string | null;
}

/**
 * Queues the messages of one event (`ObjectCreated:Put`, ...) on `bucket`'s matching
 * destinations. Cheap when the bucket has no configuration: one indexed read.
 */
export function notify(k: Kernel, bucket: string, eventName: string, o: Notified, requestId: string): void {
  const c = configOf(k, bucket);
  if (!c) return;
  const [family] = eventName.split(":");
  const now = k.clock.now();
  const sequencer = now.toString(16).toUpperCase().padStart(16, "0");
  const region = k.world().credentials.s3?.region ?? "us-east-1";
  const principal = `AWS:${k.world().credentials.s3?.accessKeyId ?? ""}`;
  const object = { key: encodeURIComponent(o.key).replace(/%20/g, "+").replace(/%2F/g, "/"), ...(o.size !== undefined ? { size: o.size } : {}), ...(o.etag ? { eTag: o.etag.replace(/"/g, "") } : {}), ...(o.versionId ? { versionId: o.versionId } : {}), sequencer };
  for (const d of c.destinations) {
    if (!d.events.some((e) => e === `s3:${eventName}` || e === `s3:${family}:*`)) continue;
    if (d.prefix !== undefined && !o.key.startsWith(d.prefix)) continue;
    if (d.suffix !== undefined && !o.key.endsWith(d.suffix)) continue;
    const record = {
      eventVersion: "2.1", eventSource: "aws:s3", awsRegion: region, eventTime: new Date(now).toISOString(), eventName,
      userIdentity: { principalId: principal }, requestParameters: { sourceIPAddress: "127.0.0.1" },
      responseElements: { "x-amz-request-id": requestId, "x-amz-id-2": requestId },
      s3: { s3SchemaVersion: "1.0", configurationId: d.id, bucket: { name: bucket, ownerIdentity: { principalId: principal }, arn: `arn:aws:s3:::${bucket}` }, object },
    };
    deliver(k, d.target, `s3:${eventName}`, JSON.stringify({ Records: [record] }));
  }
  if (c.eventBridge) {
    const detailType = EVENTBRIDGE_TYPES[eventName.split(":")[0]];
    if (!detailType) return;
    const body = JSON.stringify({
      version: "0", id: k.ids.uuid("eventbridge"), "detail-type": detailType, source: "aws.s3", account: "000000000000", time: new Date(now).toISOString(), region,
      resources: [`arn:aws:s3:::${bucket}`],
      detail: { version: "0", bucket: { name: bucket }, object: { key: o.key, ...(o.size !== undefined ? { size: o.size } : {}), ...(o.etag ? { etag: o.etag.replace(/"/g, "") } : {}), ...(o.versionId ? { "version-id": o.versionId } : {}), sequencer }, "request-id": requestId, requester: principal.slice(4), reason: reasonOf(eventName) },
    });
    deliver(k, "eventbridge", `s3:${eventName}`, body);
  }
}

const EVENTBRIDGE_TYPES: Record<string, string> = { ObjectCreated: "Object Created", ObjectRemoved: "Object Deleted", LifecycleExpiration: "Object Deleted", ObjectTagging: "Object Tags Added" };
const reasonOf = (e: string) => ({ Put: "PutObject", Post: "POST Object", Copy: "CopyObject", CompleteMultipartUpload: "CompleteMultipartUpload", Delete: "DeleteObject", DeleteMarkerCreated: "DeleteObject" })[e.split(":")[1] ?? ""] ?? e;

/** A URL destination directly; an ARN (or EventBridge) to the run's s3 endpoints that stand for it. */
function deliver(k: Kernel, target: string, event: string, body: string): void {
  if (URL_TARGET.test(target)) {
    k.outbox.enqueue({ kind: "s3", url: target, event, eventId: k.ids.make("msg_", 24), body, secret: "" });
    return;
  }
  for (const e of k.endpoints.subscribers("s3", target)) {
    k.outbox.enqueue({ kind: "s3", url: e.url, event, eventId: k.ids.make("msg_", 24), body, secret: e.secret, endpointId: e.id });
  }
}
