// A bucket's CORS configuration: validated when stored, matched against a request's Origin and
// method to add the Access-Control-* headers S3 answers with.
import { S3Error, malformedXml } from "./errors.ts";
import type { XmlNode } from "./xml.ts";

export interface CorsRule {
  id?: string;
  origins: string[];
  methods: string[];
  headers: string[];
  expose: string[];
  maxAge?: number;
}

const METHODS = new Set(["GET", "PUT", "POST", "DELETE", "HEAD"]);
const list = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

export function corsOfXml(doc: Record<string, unknown>): CorsRule[] {
  const raw = doc.CORSRule as Record<string, unknown>[] | undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 100) throw malformedXml();
  return raw.map((r) => {
    const rule: CorsRule = {
      id: r.ID === undefined ? undefined : String(r.ID),
      origins: list(r.AllowedOrigin),
      methods: list(r.AllowedMethod),
      headers: list(r.AllowedHeader),
      expose: list(r.ExposeHeader),
      maxAge: r.MaxAgeSeconds === undefined ? undefined : Number(r.MaxAgeSeconds),
    };
    if (rule.origins.length === 0 || rule.methods.length === 0) throw malformedXml();
    for (const m of rule.methods) {
      if (!METHODS.has(m)) throw new S3Error(400, "InvalidRequest", `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    for (const o of rule.origins) if ((o.match(/\*/g) ?? []).length > 1) throw new S3Error(400, "InvalidRequest", `AllowedOrigin "${o}" can not have more than one wildcard.`);
    return rule;
  });
}

export const corsXml = (rules: CorsRule[]): XmlNode => ({
  CORSRule: rules.map((r) => ({ ID: r.id, AllowedHeader: r.headers, AllowedMethod: r.methods, AllowedOrigin: r.origins, ExposeHeader: r.expose, MaxAgeSeconds: r.maxAge })),
});

const wildcard = (pattern: string, value: string) => {
  const i = pattern.indexOf("*");
  return i < 0 ? pattern === value : value.length >= pattern.length - 1 && value.startsWith(pattern.slice(0, i)) && value.endsWith(pattern.slice(i + 1));
};

/** The Access-Control-* headers for a request from `origin` with `method`, when a rule allows it. */
export function corsHeaders(rules: CorsRule[], origin: string, method: string): Record<string, string> | null {
  const rule = rules.find((r) => r.methods.includes(method) && r.origins.some((o) => wildcard(o, origin)));
  if (!rule) return null;
  const any = rule.origins.includes("*");
  const h: Record<string, string> = {
    "access-control-allow-origin": any ? "*" : origin,
    "access-control-allow-methods": rule.methods.join(", "),
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  };
  if (!any) h["access-control-allow-credentials"] = "true";
  if (rule.expose.length) h["access-control-expose-headers"] = rule.expose.join(", ");
  if (rule.maxAge !== undefined) h["access-control-max-age"] = String(rule.maxAge);
  return h;
}

/** S3's refusal of a preflight: 403 AccessForbidden naming the method and the kind of resource. */
export const corsForbidden = (why: string, method: string, resource: "BUCKET" | "OBJECT") =>
  new S3Error(403, "AccessForbidden", `CORSResponse: ${why}`, { Method: method, ResourceType: resource });

export const CORS_NOT_ALLOWED =
  "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

const headerAllowed = (patterns: string[], name: string) => patterns.some((p) => wildcard(p.toLowerCase(), name));

/**
 * The answer headers of a preflight for `origin`, `method` and the requested headers, from the
 * first rule that allows all three (S3's order); null when none does.
 */
export function preflightHeaders(rules: CorsRule[], origin: string, method: string, requested: string[]): Record<string, string> | null {
  const names = requested.map((h) => h.trim().toLowerCase()).filter(Boolean);
  const rule = rules.find((r) => r.methods.includes(method) && r.origins.some((o) => wildcard(o, origin)) && names.every((n) => headerAllowed(r.headers, n)));
  if (!rule) return null;
  const h = corsHeaders([rule], origin, method)!;
  if (names.length) h["access-control-allow-headers"] = names.join(", ");
  return h;
}
