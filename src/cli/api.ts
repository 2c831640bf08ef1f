// The CLI's line to the control API: where it is, which key, and errors that name the fix.
import { readFileSync } from "node:fs";
import path from "node:path";

// Node runs this file with type stripping: no parameter properties here.
export class CliError extends Error {
  readonly fix: string;
  readonly exitCode: number;
  constructor(message: string, fix: string, exitCode = 1) {
    super(message);
    this.fix = fix;
    this.exitCode = exitCode;
  }
}

export interface Target {
  url: string;
  key: string;
}

/** MOLAR_CLONES_CTRL_URL (default the local runner) and MOLAR_CLONES_API_TOKEN, else the dev key `npm start` keeps. */
export function target(env: NodeJS.ProcessEnv, cwd: string): Target {
  const url = (env.MOLAR_CLONES_CTRL_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
  let key = env.MOLAR_CLONES_API_TOKEN;
  if (!key) {
    try {
      key = readFileSync(path.resolve(cwd, env.MOLAR_CLONES_STATE_DIR ?? ".molar", "dev-key"), "utf8").trim();
    } catch {
      throw new CliError("no API key", "set MOLAR_CLONES_API_TOKEN, or run `molar-clones start` here first so .molar/dev-key exists");
    }
  }
  return { url, key };
}

/** Told of bytes moved so far (and the total when known) by bundle downloads and uploads. */
export type Progress = (done: number, total: number | null) => void;

/** A progress line on stderr for people at a terminal; nothing for scripts or pipes. */
export function progressBar(verb: string): Progress | undefined {
  if (!process.stderr.isTTY) return undefined;
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return (done, total) => {
    const width = 24;
    const bar = total ? "#".repeat(Math.round((done / total) * width)).padEnd(width, ".") : "";
    process.stderr.write(`\r${verb} ${bar ? `[${bar}] ` : ""}${mib(done)}${total ? ` / ${mib(total)}` : ""} MiB${done === total ? "\n" : ""}`);
  };
}

const CHUNK = 256 * 1024;

export async function request<T>(t: Target, method: string, pathname: string, body?: unknown, accept?: string, progress?: Progress): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${t.key}`, "x-molar-actor": "cli" };
  if (accept) headers.accept = accept;
  let payload: BodyInit | undefined;
  let duplex: "half" | undefined;
  if (body instanceof Uint8Array && progress) {
    // Streamed in pieces so the bar moves as the bundle goes out.
    let sent = 0;
    payload = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent >= body.byteLength) return ctl.close();
        const piece = body.subarray(sent, sent + CHUNK);
        sent += piece.byteLength;
        ctl.enqueue(piece);
        progress(sent, body.byteLength);
      },
    });
    duplex = "half";
    headers["content-length"] = String(body.byteLength);
  } else if (body instanceof Uint8Array) payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(`${t.url}${pathname}`, { method, headers, body: payload, ...(duplex ? { duplex } : {}) } as RequestInit);
  } catch (e) {
    throw new CliError(`cannot reach ${t.url} (${(e as Error).cause ? String((e as { cause: Error }).cause.message ?? (e as Error).cause) : (e as Error).message})`, "start it with `molar-clones start`, or point MOLAR_CLONES_CTRL_URL at a running service");
  }
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText;
    try {
      const e = ((await res.json()) as { error?: { code?: string; message?: string } }).error;
      code = e?.code ?? code;
      message = e?.message ?? message;
    } catch {
      /* not JSON */
    }
    const fix =
      res.status === 401
        ? "check MOLAR_CLONES_API_TOKEN (the org key) for this service"
        : res.status === 404
          ? "list runs with `molar-clones runs ls`"
          : res.status === 429
            ? "tear down runs you no longer need, or wait for Retry-After"
            : "see the message above";
    throw new CliError(`${message} (${code})`, fix);
  }
  if (accept === "application/gzip") {
    if (!progress || !res.body) return new Uint8Array(await res.arrayBuffer()) as T;
    const total = Number(res.headers.get("content-length")) || null;
    const parts: Uint8Array[] = [];
    let got = 0;
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      parts.push(part);
      got += part.byteLength;
      progress(got, total);
    }
    if (total === null) progress(got, got);
    const out = new Uint8Array(got);
    let o = 0;
    for (const part of parts) (out.set(part, o), (o += part.byteLength));
    return out as T;
  }
  const ct = res.headers.get("content-type") ?? "";
  if (ct.includes("ndjson")) return (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l)) as T;
  return (await res.json()) as T;
}

export const adminPath = (runId: string, rest: string) => `/admin/v1/runs/${encodeURIComponent(runId)}${rest}`;
