// Templates of the email clone (Resend): drafts edited, versions published, and sends that name a
// published template by id or alias, its `{{{VARIABLE}}}` placeholders filled from the send's
// variables or the template's fallbacks.
import type { Kernel } from "../../kernel/types.ts";
import { ResendError, invalid, missingField, notFound } from "./errors.ts";
import { addressOf, resendTime } from "./format.ts";
import { page } from "./domain.ts";

type Body = Record<string, unknown>;
type Value = string | number | boolean | Body | unknown[];
interface Variable { id: string; key: string; type: string; fallback_value: Value | null; created_at: number; updated_at: number }
interface Version { subject: string | null; from: string | null; reply_to: string[] | null; html: string; text: string | null; variables: Variable[] }
type Row = { id: string; seq: number; name: string; alias: string | null; draft: string; published: string | null; published_at: number | null; created_at: number; updated_at: number };

const TYPES = ["string", "number", "boolean", "object", "list"];
const KEY = /^[A-Za-z0-9_]{1,50}$/;
const MAX_VARIABLES = 50;

function rowOf(k: Kernel, idOrAlias: string): Row {
  const r = k.sql.exec<Row>("SELECT * FROM email_templates WHERE id = ? OR alias = ? ORDER BY id = ? DESC LIMIT 1", idOrAlias, idOrAlias, idOrAlias).toArray()[0];
  if (!r) throw notFound("Template");
  return r;
}

const str = (b: Body, field: string): string | null | undefined => {
  const v = b[field];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== "string") throw invalid(`Invalid \`${field}\` field. It must be a string.`);
  return v;
};

function variablesOf(k: Kernel, v: unknown, prior: Variable[]): Variable[] {
  if (v === undefined) return prior;
  if (!Array.isArray(v)) throw invalid("Invalid `variables` field. It must be an array.");
  if (v.length > MAX_VARIABLES) throw invalid(`A template may have at most ${MAX_VARIABLES} variables.`);
  const now = k.clock.now();
  const seen = new Set<string>();
  return v.map((x, i) => {
    const o = (x ?? {}) as Body;
    if (typeof o.key !== "string" || !KEY.test(o.key)) throw invalid(`Invalid \`variables[${i}].key\` field. Use letters, digits and underscores.`);
    if (seen.has(o.key)) throw invalid(`The variable \`${o.key}\` is defined twice.`);
    seen.add(o.key);
    if (typeof o.type !== "string" || !TYPES.includes(o.type)) throw invalid(`Invalid \`variables[${i}].type\` field. Use one of ${TYPES.join(", ")}.`);
    const fallback = o.fallback_value === undefined ? null : (o.fallback_value as Value | null);
    if (fallback !== null && !fits(o.type, fallback)) throw invalid(`Invalid \`variables[${i}].fallback_value\` field. It must be of type ${o.type}.`);
    const old = prior.find((p) => p.key === o.key);
    return { id: old?.id ?? k.ids.uuid("template_variable"), key: o.key, type: o.type, fallback_value: fallback, created_at: old?.created_at ?? now, updated_at: now };
  });
}

function fits(type: string, v: unknown): boolean {
  if (type === "list") return Array.isArray(v);
  if (type === "object") return typeof v === "object" && v !== null && !Array.isArray(v);
  return typeof v === type;
}

function versionOf(k: Kernel, b: Body, prior: Version | null): Version {
  const from = str(b, "from");
  if (from && !addressOf(from)) throw new ResendError(422, "invalid_from_address", "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.");
  let replyTo = prior?.reply_to ?? null;
  if (b.reply_to !== undefined) {
    const list = b.reply_to === null ? null : typeof b.reply_to === "string" ? [b.reply_to] : b.reply_to;
    if (list !== null && (!Array.isArray(list) || !list.every((a) => typeof a === "string" && addressOf(a)))) throw invalid("Invalid `reply_to` field. It must be a list of email addresses.");
    replyTo = list as string[] | null;
  }
  const html = str(b, "html");
  if (html === null || (html === undefined && !prior)) throw missingField("html");
  return {
    subject: str(b, "subject") === undefined ? (prior?.subject ?? null) : (str(b, "subject") ?? null),
    from: from === undefined ? (prior?.from ?? null) : from,
    reply_to: replyTo,
    html: html ?? prior!.html,
    text: str(b, "text") === undefined ? (prior?.text ?? null) : (str(b, "text") ?? null),
    variables: variablesOf(k, b.variables, prior?.variables ?? []),
  };
}

function aliasOf(k: Kernel, b: Body, self: string | null): string | null | undefined {
  const alias = str(b, "alias");
  if (alias === undefined || alias === null) return alias;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(alias)) throw invalid("Invalid `alias` field. Use letters, digits, dots, dashes and underscores.");
  const taken = k.sql.exec<{ id: string }>("SELECT id FROM email_templates WHERE alias = ? AND id IS NOT ?", alias, self).toArray()[0];
  if (taken) throw new ResendError(409, "invalid_parameter", `A template with the alias ${alias} already exists.`);
  return alias;
}

const nextSeq = (k: Kernel) => Number(k.sql.exec<{ v: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS v FROM email_templates").one().v);

function insert(k: Kernel, name: string, alias: string | null, draft: Version): string {
  const id = k.ids.uuid("template");
  const now = k.clock.now();
  k.sql.exec(
    "INSERT INTO email_templates (id, seq, name, alias, draft, published, published_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
    id, nextSeq(k), name, alias, JSON.stringify(draft), now, now,
  );
  return id;
}

export function createTemplate(k: Kernel, b: Body) {
  if (b.name === undefined || b.name === null || b.name === "") throw missingField("name");
  if (typeof b.name !== "string") throw invalid("Invalid `name` field. It must be a string.");
  const alias = aliasOf(k, b, null) ?? null;
  return { id: insert(k, b.name, alias, versionOf(k, b, null)), object: "template" };
}

export function updateTemplate(k: Kernel, idOrAlias: string, b: Body) {
  const r = rowOf(k, idOrAlias);
  const name = b.name === undefined ? r.name : typeof b.name === "string" && b.name !== "" ? b.name : null;
  if (name === null) throw invalid("Invalid `name` field. It must be a non-empty string.");
  const alias = aliasOf(k, b, r.id);
  const draft = versionOf(k, b, JSON.parse(r.draft) as Version);
  k.sql.exec("UPDATE email_templates SET name = ?, alias = ?, draft = ?, updated_at = ? WHERE id = ?", name, alias === undefined ? r.alias : alias, JSON.stringify(draft), k.clock.now(), r.id);
  return { id: r.id, object: "template" };
}

export function publishTemplate(k: Kernel, idOrAlias: string) {
  const r = rowOf(k, idOrAlias);
  k.sql.exec("UPDATE email_templates SET published = draft, published_at = ?, updated_at = ? WHERE id = ?", k.clock.now(), k.clock.now(), r.id);
  return { id: r.id, object: "template" };
}

export function duplicateTemplate(k: Kernel, idOrAlias: string) {
  const r = rowOf(k, idOrAlias);
  return { id: insert(k, `${r.name} (Copy)`, null, JSON.parse(r.draft) as Version), object: "template" };
}

export function deleteTemplate(k: Kernel, idOrAlias: string) {
  const r = rowOf(k, idOrAlias);
  k.sql.exec("DELETE FROM email_templates WHERE id = ?", r.id);
  return { object: "template", id: r.id, deleted: true };
}

const status = (r: Row) => (r.published ? "published" : "draft");

export function getTemplate(k: Kernel, idOrAlias: string) {
  const r = rowOf(k, idOrAlias);
  const d = JSON.parse(r.draft) as Version;
  return {
    object: "template",
    id: r.id,
    current_version_id: r.id,
    name: r.name,
    alias: r.alias,
    from: d.from,
    subject: d.subject,
    reply_to: d.reply_to,
    html: d.html,
    text: d.text,
    variables: d.variables.map((v) => ({ ...v, created_at: resendTime(v.created_at), updated_at: resendTime(v.updated_at) })),
    created_at: resendTime(r.created_at),
    updated_at: resendTime(r.updated_at),
    status: status(r),
    published_at: r.published_at === null ? null : resendTime(r.published_at),
    has_unpublished_versions: r.published !== null && r.published !== r.draft,
  };
}

export function listTemplates(k: Kernel, q: { limit?: string; after?: string; before?: string }) {
  const { has_more, rows } = page<Row>(
    k,
    (c, limit) =>
      c.before !== undefined
        ? k.sql.exec<Row>("SELECT * FROM email_templates WHERE seq > ? ORDER BY seq ASC LIMIT ?", c.before, limit).toArray()
        : k.sql.exec<Row>("SELECT * FROM email_templates WHERE seq < ? ORDER BY seq DESC LIMIT ?", c.after ?? Number.MAX_SAFE_INTEGER, limit).toArray(),
    (id) => k.sql.exec<{ seq: number }>("SELECT seq FROM email_templates WHERE id = ?", id).toArray()[0]?.seq ?? null,
    q,
  );
  return {
    object: "list",
    has_more,
    data: rows.map((r) => ({
      id: r.id, name: r.name, status: status(r), published_at: r.published_at === null ? null : resendTime(r.published_at),
      created_at: resendTime(r.created_at), updated_at: resendTime(r.updated_at), alias: r.alias,
    })),
  };
}

/**
 * A send's `template`: the published version's subject, sender, reply-to and bodies, its
 * placeholders filled. What the send itself gives (`from`, `subject`, `reply_to`) wins.
 */
export function renderTemplate(k: Kernel, t: unknown): { subject: string | null; from: string | null; replyTo: string[] | null; html: string; text: string | null } {
  if (typeof t !== "object" || t === null || Array.isArray(t)) throw invalid("Invalid `template` field. It must be an object with an `id`.");
  const { id, variables } = t as Body;
  if (typeof id !== "string" || id === "") throw missingField("template.id");
  const r = rowOf(k, id);
  if (!r.published) throw invalid(`The template ${id} is not published. Publish it before sending with it.`);
  const v = JSON.parse(r.published) as Version;
  if (variables !== undefined && (typeof variables !== "object" || variables === null || Array.isArray(variables))) throw invalid("Invalid `template.variables` field. It must be an object.");
  const given = (variables ?? {}) as Body;
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(given)) {
    const def = v.variables.find((x) => x.key === key);
    if (!def) throw invalid(`The variable \`${key}\` is not defined in the template.`);
    if (typeof value !== "string" && typeof value !== "number") throw invalid(`Invalid value for the variable \`${key}\`. It must be a string or a number.`);
    values.set(key, String(value));
  }
  for (const def of v.variables) {
    if (values.has(def.key)) continue;
    if (def.fallback_value === null) throw invalid(`Missing value for the variable \`${def.key}\`, which has no fallback value.`);
    values.set(def.key, typeof def.fallback_value === "object" ? JSON.stringify(def.fallback_value) : String(def.fallback_value));
  }
  const fill = (s: string) => s.replace(/\{\{\{\s*([A-Za-z0-9_]+)\s*\}\}\}/g, (m, key: string) => values.get(key) ?? m);
  return { subject: v.subject === null ? null : fill(v.subject), from: v.from, replyTo: v.reply_to, html: fill(v.html), text: v.text === null ? null : fill(v.text) };
}
