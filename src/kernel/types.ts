import type { Hono } from "hono";
import type { DrizzleSqliteDODatabase } from "drizzle-orm/durable-sqlite";
import type { Clock } from "./clock.ts";
import type { Ids, Rng } from "./rng.ts";
import type { Jobs } from "./jobs.ts";
import type { Chaos } from "./chaos.ts";
import type { Outbox } from "./outbox.ts";
import type { Inbox } from "./inbox.ts";
import type { Idempotency } from "./idempotency.ts";
import type { Blobs, Chunks } from "./blobs.ts";
import type { Endpoints } from "./endpoints.ts";
import type { MigrationSet } from "./migrate.ts";

export const KINDS = ["stripe", "twilio", "email", "auth", "s3"] as const;
export type Kind = (typeof KINDS)[number];
export const isKind = (v: unknown): v is Kind => typeof v === "string" && (KINDS as readonly string[]).includes(v);

/** Public base URLs of this deployment: the control origin and one per vendor. */
/** Public base URLs; `admin` when the admin API has a listener of its own (`serve`). */
export type Urls = Record<"control" | Kind, string> & { admin?: string };

/** What a world knows about itself; kept outside the snapshotted tables so restore never moves it. */
export interface WorldIdentity {
  runId: string;
  worldId: string;
  org: string;
  seed: string;
  rngSeed: string;
  kinds: Kind[];
  createdAt: number;
  expiresAt: number;
  credentials: Partial<Record<Kind, Record<string, string>>>;
  /** Private material no API ever shows (the auth clone's RSA signing key). */
  secrets?: Partial<Record<Kind, Record<string, unknown>>>;
  urls: Urls;
  quotas: Quotas;
}

export interface Quotas {
  concurrentRuns: number;
  requestsPerMinute: number;
  storedBytes: number;
}

/** The services every vendor receives, explicitly: nothing else of the world is reachable. */
export interface Kernel {
  readonly db: DrizzleSqliteDODatabase<Record<string, unknown>>;
  readonly sql: SqlStorage;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly rng: Rng;
  readonly jobs: Jobs;
  readonly chaos: Chaos;
  readonly outbox: Outbox;
  readonly inbox: Inbox;
  readonly idempotency: Idempotency;
  readonly blobs: Blobs;
  /** Large bodies in content-addressed pieces, kept for the world's life (see Chunks). */
  readonly chunks: Chunks;
  readonly endpoints: Endpoints;
  readonly world: () => WorldIdentity;
  /**
   * The object store (R2) for bytes too big for a row: use keys under `blobs/` for content
   * addressed by sha256 (shared by every world, so snapshots and branches reference them) and
   * `worlds/<worldId>/` for bytes of this world only (deleted with it).
   */
  readonly bucket: R2Bucket;
  /** One synchronous SQLite transaction, for work outside a vendor request (admin calls, deferred work). */
  tx<T>(fn: () => T): T;
  /** Registers an in-memory view of tables to drop after a rollback or a restore. */
  onReload(drop: () => void): void;
  /**
   * A request to the app under test (its webhook or TwiML URL). Refuses live vendor hosts: the
   * clones never call a real vendor.
   */
  fetchApp(url: string, init?: RequestInit): Promise<Response>;
  /**
   * Advances the run clock to `toMs`, firing what falls due, as `POST {adminUrl}/clock/advance`
   * does; for a vendor's own time control (Stripe's test clocks), from a `deferred` answer only.
   */
  advance(toMs: number): Promise<void>;
}

/**
 * A vendor handler's answer when part of it must await (WebCrypto signing, a call to the app):
 * the handler does its reads and writes synchronously inside the request's transaction, then
 * returns `deferred(async () => response)`; the platform runs it after the commit. Writes made
 * in there need `k.tx`.
 * @example return deferred(async () => c.json({ jwt: await sign(claims) }));
 */
export class Deferred extends Response {
  constructor(readonly run: () => Promise<Response>) {
    super(null, { status: 202 });
  }
}
export const deferred = (run: () => Promise<Response>) => new Deferred(run);

/**
 * What a vendor router's handlers get besides the request: the body, already read and capped by
 * the platform. Handlers are synchronous, so the whole request runs in one SQLite transaction.
 */
export type VendorBindings = {
  body: Uint8Array;
  /** The method as the client sent it: HEAD is served by the GET route, but was signed as HEAD. */
  method: string;
  /** The unread body, for plug-ins that stream (`streamBodies`): `body` is then empty. */
  stream: ReadableStream<Uint8Array> | null;
  /** The request's URL, parsed once by the world for every step that reads it. */
  url: URL;
};
export type VendorHono = Hono<{ Bindings: VendorBindings }>;

/** A table a vendor declares: snapshots dump it; `type` makes its rows resources for counts and diffs. */
export interface DeclaredTable {
  name: string;
  type?: string;
  idColumn?: string;
}

/** Outcome of a job: what `POST /clock/advance` reports as fired. */
export type JobResult = string | void;
/** Job handlers are synchronous: each runs in one SQLite transaction. */
export type JobHandler = (payload: Record<string, unknown>, job: { id: number; dueAt: number; ref: string | null }) => JobResult;

/** A chaos preset a vendor offers. With `status` it is an HTTP failure; without, the domain consults it. */
export interface PresetDef {
  description: string;
  method?: string;
  path?: string;
  status?: number;
  latencyMs?: number;
}

/** The one error module of a vendor: every failure the platform makes is built here, in its shape. */
export interface VendorErrors {
  /** `missing` when no credential was presented at all (some vendors answer that differently). */
  unauthorized(missing?: boolean): Response;
  notFound(method: string, path: string): Response;
  notImplemented(method: string, path: string): Response;
  rateLimited(retryAfterSeconds: number, message?: string): Response;
  tooLarge(limitBytes: number): Response;
  injected(status: number, preset: string | null): Response;
  internal(): Response;
}

export interface SignInput {
  deliveryId: string;
  eventId: string;
  url: string;
  body: string;
  secret: string;
  wallNowMs: number;
}

/** What a vendor's `anonymous` hook may use on the Worker side. */
export interface AnonymousGateway {
  /** The object store worlds write to (see Kernel.bucket). */
  bucket: R2Bucket;
  /** Sends `req` to a world as the gateway would, presenting `credential`. */
  forward(worldId: string, credential: string, req: Request): Promise<Response>;
}

/** The vendor plug-in: a name, tables, a router, jobs, presets, errors and its webhook signer. */
export interface VendorPlugin {
  kind: Kind;
  /** Its tables, `<kind>_` prefixed, as drizzle-kit generated them into migrations/<kind>. */
  migrations?: MigrationSet;
  tables: DeclaredTable[];
  /** Request body cap in bytes; the platform answers `errors.tooLarge` above it. */
  maxBodyBytes: number;
  /**
   * Bodies this vendor streams rather than has buffered (S3 objects): the handler gets
   * `c.env.stream` and reads it in its `deferred` part. The cap is still enforced on the declared
   * Content-Length by the gateway.
   */
  streamBodies?: (method: string, url: URL) => boolean;
  errors: VendorErrors;
  /** Worker side, before any Durable Object: which world the credentials name, if any. */
  worldIdOf(req: Request): string | null;
  /**
   * Worker side, for a request `worldIdOf` names no world for (a browser's S3 form upload carries
   * its credential in a form field): reads what it must and answers the world, the credential it
   * found (the world sees it as `CREDENTIAL_HEADER`) and the request to forward; or a Response.
   */
  anonymous?(req: Request, gateway: AnonymousGateway): Promise<{ worldId: string; credential: string; req: Request } | Response | null>;
  /** Mints this vendor's credentials for a new world; the world id must be recoverable by worldIdOf. */
  mintCredentials(worldId: string): Promise<Record<string, string>>;
  /** Inside the world: are these the world's credentials? */
  authenticate(req: Request, creds: Record<string, string>, k: Kernel, url: URL): boolean | Promise<boolean>;
  /**
   * Its routes. Handlers are synchronous, and no two routes may match one path (`/users/count`
   * beside `/users/:id`): Hono then composes them asynchronously and the platform refuses it.
   */
  router(k: Kernel): VendorHono;
  /** The answer for a path no route matches: the vendor's "unrecognized URL", or its 501 for a known operation not built. */
  unmatched(method: string, path: string): Response;
  jobs(k: Kernel): Record<string, JobHandler>;
  presets: Record<string, PresetDef>;
  /** Signature headers for a webhook delivery (wall-clock timestamps: real verifiers check them). */
  sign?(input: SignInput): Promise<Record<string, string>>;
  /** Delays, in ms after the first attempt fails, of each retry. */
  retrySchedule?: number[];
  /** Messages due together to one URL go out one after another, in the order they were queued. */
  orderedDeliveries?: boolean;
  /**
   * Vendor-specific admin calls (e.g. simulate an inbound SMS), served under the run's admin URL
   * at `/<kind>/...`. Handlers may await; they write through `k.tx`. Errors: the admin API's shape.
   */
  admin?(k: Kernel): Hono;
}
