/** The Worker's bindings: generated ones (worker-configuration.d.ts) with vars as strings, plus secrets. */
import type { RunWorld } from "../durable-objects/run-world.ts";
import type { Control } from "../durable-objects/control.ts";

export type AppEnv = Omit<Env, "RUN" | "CONTROL" | "MOLAR_URLS" | "MOLAR_CLONES_ORGS" | "MOLAR_QUOTA_CONCURRENT_RUNS" | "MOLAR_QUOTA_REQUESTS_PER_MINUTE" | "MOLAR_QUOTA_STORED_BYTES"> & {
  RUN: DurableObjectNamespace<RunWorld>;
  CONTROL: DurableObjectNamespace<Control>;
  MOLAR_URLS?: string;
  MOLAR_CLONES_ORGS?: string;
  MOLAR_QUOTA_CONCURRENT_RUNS?: string;
  MOLAR_QUOTA_REQUESTS_PER_MINUTE?: string;
  MOLAR_QUOTA_STORED_BYTES?: string;
  /** Accepted as the API key of org `default`. */
  MOLAR_CLONES_API_TOKEN?: string;
  /** The generated, persisted dev key of `npm start`; also org `default`. */
  MOLAR_CLONES_DEV_KEY?: string;
  /** HS256 key for per-run admin tokens. */
  MOLAR_JWT_SECRET?: string;
  /** Failed authentications a client may make per minute before it is refused (default 60). */
  MOLAR_AUTH_FAILURES_PER_MINUTE?: string;
  /** How long a webhook receiver or an app's endpoint gets to answer, in ms (default 10000). */
  MOLAR_WEBHOOK_TIMEOUT_MS?: string;
  /** A fixed token a local coding agent's MCP client may present for org `default` (16+ chars). */
  MOLAR_STATIC_TOKEN?: string;
  /** Vendor hostnames on Cloudflare, JSON {"stripe": "stripe.example.com", ...}. */
  MOLAR_VENDOR_HOSTS?: string;
};
