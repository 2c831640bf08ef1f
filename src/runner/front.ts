// Node fronts before workerd's loopback ports. The S3 port always has one: workerd never answers
// `Expect: 100-continue`, and the AWS SDK sends it for bodies of 2 MB and more, then waits 6 s
// before sending the body anyway. `npm start` answers it with a TCP relay (`continueFront`);
// `serve` puts an HTTP front before every listener it opens, for TLS from files,
// client-certificate checks and path rules (a separate admin listener, one clone), where Node's
// server answers 100 Continue itself. Host, signed headers and bodies pass unchanged.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Addr } from "./config.ts";

export interface Front {
  port: number;
  close(): Promise<void>;
}

export interface FrontOptions {
  /** PEM key and certificate; `ca` also asks every client for a certificate signed by it (mTLS). */
  tls?: { key: string; cert: string; ca?: string };
  /**
   * Decides each request before it goes in: a new path (and headers) to send to workerd, or an
   * answer of its own (status and JSON body). Absent: everything passes unchanged.
   */
  route?: (req: http.IncomingMessage) => { path: string; headers?: http.OutgoingHttpHeaders } | { status: number; body: unknown } | Promise<{ path: string; headers?: http.OutgoingHttpHeaders } | { status: number; body: unknown }>;
  /** What a client sees when workerd is unreachable. */
  unreachable?: { contentType: string; body: string };
}

const S3_UNREACHABLE = { contentType: "application/xml", body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>The S3 clone is not reachable.</Message></Error>' };

export async function front(publicAddr: Addr, internalPort: number, o: FrontOptions = {}): Promise<Front> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  // Large bodies go over a connection of their own: on reused keep-alive connections workerd
  // reset most of ten parallel 64 MiB uploads (measured: 9 of 10 ECONNRESET, none without reuse),
  // and a streamed body cannot be replayed once part of it went into a dead socket.
  const fresh = new http.Agent({ keepAlive: false, maxSockets: 64 });
  const BIG = 1024 * 1024;
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let path = req.url ?? "/";
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    delete headers.expect;
    if (o.route) {
      let d;
      try {
        d = await o.route(req);
      } catch {
        d = { status: 502, body: { error: { type: "unavailable", code: "upstream", message: "The service behind this listener did not answer." } } };
      }
      if ("status" in d) {
        req.resume();
        res.writeHead(d.status, { "content-type": "application/json" }).end(JSON.stringify(d.body));
        return;
      }
      path = d.path;
      Object.assign(headers, d.headers ?? {});
    }
    const length = Number(req.headers["content-length"] ?? (req.headers["transfer-encoding"] ? Infinity : 0));
    const up = http.request({ host: "127.0.0.1", port: internalPort, method: req.method, path, headers, agent: length >= BIG ? fresh : agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.rawHeaders.length ? pairs(r.rawHeaders) : r.headers);
      r.pipe(res);
    });
    up.on("error", () => {
      const u = o.unreachable ?? S3_UNREACHABLE;
      if (!res.headersSent) res.writeHead(502, { "content-type": u.contentType });
      res.end(u.body);
    });
    req.pipe(up);
  };
  const server = o.tls
    ? https.createServer({ key: o.tls.key, cert: o.tls.cert, ...(o.tls.ca ? { ca: o.tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(publicAddr.port, publicAddr.host, () => resolve());
  });
  return {
    port: (server.address() as import("node:net").AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
        fresh.destroy();
      }),
  };
}

/**
 * The S3 port's front: a TCP relay, one workerd connection per client connection, that follows
 * only the requests' framing (head, then Content-Length or chunked body) to answer
 * `Expect: 100-continue` itself and take the header out; answers pass untouched. The HTTP front
 * above cost ~1 ms a small request here (Node parsing and re-sending every request and answer:
 * a 1 KiB GET took 2.6 ms through it, 1.6 ms straight to workerd) and ~60 ms a 16 MiB PUT.
 * Clients that pipeline a request with Expect behind an unfinished answer are not served (the
 * 100 would land inside that answer); HTTP clients that send Expect wait for each answer.
 */
export async function continueFront(publicAddr: Addr, internalPort: number): Promise<Front> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => relay(client, internalPort, sockets));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(publicAddr.port, publicAddr.host, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
const UNREACHABLE = Buffer.from(
  `HTTP/1.1 502 Bad Gateway\r\ncontent-type: ${S3_UNREACHABLE.contentType}\r\ncontent-length: ${Buffer.byteLength(S3_UNREACHABLE.body)}\r\nconnection: close\r\n\r\n${S3_UNREACHABLE.body}`,
);

/** Bodies from this size on go to workerd over a connection that carried no request before. */
const BIG_BODY = 1024 * 1024;

function relay(client: net.Socket, port: number, sockets: Set<net.Socket>): void {
  client.setNoDelay(true);
  sockets.add(client);
  let up: net.Socket;
  let used = false;
  const connect = () => {
    const u = net.connect({ host: "127.0.0.1", port, noDelay: true });
    sockets.add(u);
    let answered = false;
    u.on("drain", () => client.resume());
    u.on("data", (d: Buffer) => {
      answered = true;
      if (!client.write(d)) u.pause();
    });
    u.on("end", () => client.end());
    u.on("error", () => {
      if (!answered && client.writable) client.end(UNREACHABLE);
      else client.destroy();
    });
    u.on("close", () => {
      sockets.delete(u);
      client.end();
    });
    up = u;
    used = false;
  };
  connect();
  const framing = new RequestFraming(
    (b) => {
      if (!up.write(b)) client.pause();
    },
    () => client.write(CONTINUE),
    (bodyBytes) => {
      // As the HTTP front did: on reused workerd connections, workerd reset most of ten parallel
      // 64 MiB uploads (9 of 10 then; 1 run in 3 of the memory bench row through this relay).
      // The previous answer is complete (the client sent this request), so the old one can go.
      if (used && bodyBytes >= BIG_BODY) {
        const old = up;
        old.removeAllListeners();
        old.on("error", () => undefined);
        old.on("close", () => sockets.delete(old));
        old.end();
        connect();
      }
      used = true;
    },
  );
  client.on("data", (d: Buffer) => framing.feed(d));
  client.on("drain", () => up.resume());
  client.on("end", () => up.end());
  client.on("error", () => up.destroy());
  client.on("close", () => {
    up.destroy();
    sockets.delete(client);
  });
}

const MAX_HEAD = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

/**
 * Follows HTTP/1.1 request framing in the bytes a client sends, passing them on (`out`) as they
 * come: each head is held until complete, its `Expect: 100-continue` taken out and answered
 * (`onContinue`), then its body passed through by Content-Length or chunk sizes (chunk extensions
 * and trailers dropped). Anything it does not follow (an upgrade, a head over 64 KiB, a bad
 * length) is passed on raw from there on, for workerd to answer.
 */
export class RequestFraming {
  private state: "head" | "body" | "size" | "data" | "trailer" | "raw" = "head";
  private head: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private line = "";
  private readonly out: (b: Buffer) => void;
  private readonly onContinue: () => void;
  private readonly onRequest: (bodyBytes: number) => void;

  /** `onRequest` hears of each request (its body's length, Infinity when chunked) before its head goes out. */
  constructor(out: (b: Buffer) => void, onContinue: () => void, onRequest: (bodyBytes: number) => void = () => undefined) {
    this.out = out;
    this.onContinue = onContinue;
    this.onRequest = onRequest;
  }

  feed(d: Buffer): void {
    while (d.length > 0) {
      if (this.state === "raw") return this.out(d);
      if (this.state === "head") {
        const searchFrom = Math.max(0, this.head.length - 3);
        const joined = this.head.length ? Buffer.concat([this.head, d]) : d;
        const end = joined.indexOf(HEAD_END, searchFrom);
        if (end < 0) {
          if (joined.length > MAX_HEAD) {
            this.head = Buffer.alloc(0);
            this.state = "raw";
            this.out(joined);
            return;
          }
          this.head = joined === d ? Buffer.from(d) : joined;
          return;
        }
        this.head = Buffer.alloc(0);
        this.out(this.startRequest(joined.subarray(0, end + 4)));
        d = joined.subarray(end + 4);
      } else if (this.state === "body" || this.state === "data") {
        const n = Math.min(this.remaining, d.length);
        this.out(d.subarray(0, n));
        this.remaining -= n;
        d = d.subarray(n);
        if (this.remaining === 0) this.state = this.state === "body" ? "head" : "size";
      } else {
        // A chunk-size line or a trailer line, read whole, then passed on as workerd reads them:
        // it refuses chunk extensions and trailers (kj: "invalid HTTP chunk size", then 501).
        const nl = d.indexOf(10);
        const part = nl < 0 ? d : d.subarray(0, nl + 1);
        d = d.subarray(part.length);
        this.line += part.toString("latin1");
        if (nl < 0) {
          if (this.line.length > MAX_HEAD) {
            this.state = "raw";
            this.out(Buffer.from(this.line, "latin1"));
          }
          continue;
        }
        const line = this.line.trim();
        this.line = "";
        if (this.state === "trailer") {
          if (line === "") {
            this.out(CRLF);
            this.state = "head";
          }
          continue;
        }
        const size = /^[0-9a-fA-F]+/.test(line) ? parseInt(line, 16) : NaN;
        if (!Number.isSafeInteger(size)) {
          this.state = "raw";
          this.out(Buffer.from(`${line}\r\n`, "latin1"));
          continue;
        }
        this.out(Buffer.from(`${size.toString(16)}\r\n`, "latin1"));
        if (size === 0) this.state = "trailer";
        else {
          this.remaining = size + 2; // the data and its CRLF
          this.state = "data";
        }
      }
    }
  }

  /** Reads one request head: sets what follows it and answers the bytes to pass on. */
  private startRequest(head: Buffer): Buffer {
    const lines = head.toString("latin1").split("\r\n");
    let length = 0;
    let chunked = false;
    let expect = -1;
    let raw = /^CONNECT /i.test(lines[0]);
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].indexOf(":");
      if (c < 0) continue;
      const name = lines[i].slice(0, c).trim().toLowerCase();
      const value = lines[i].slice(c + 1).trim();
      if (name === "content-length") length = /^\d+$/.test(value) ? Number(value) : NaN;
      else if (name === "transfer-encoding") chunked = /(^|,)\s*chunked\s*$/i.test(value);
      else if (name === "expect" && value.toLowerCase() === "100-continue") expect = i;
      else if (name === "upgrade") raw = true;
    }
    this.onRequest(chunked ? Infinity : Number.isSafeInteger(length) ? length : 0);
    if (raw || (!chunked && !Number.isSafeInteger(length))) this.state = "raw";
    else if (chunked) this.state = "size";
    else if (length > 0) {
      this.state = "body";
      this.remaining = length;
    } else this.state = "head";
    if (expect < 0) return head;
    if (this.state !== "head") this.onContinue();
    lines.splice(expect, 1);
    return Buffer.from(lines.join("\r\n"), "latin1");
  }
}

/** Raw header pairs, so repeated headers (Set-Cookie) survive. */
function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}
