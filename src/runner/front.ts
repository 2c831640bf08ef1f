// Node fronts before workerd's loopback ports. The S3 port always has one: workerd never answers
// `Expect: 100-continue`, and the AWS SDK sends it for bodies of 2 MB and more, then waits 6 s
// before sending the body anyway; Node's server answers 100 Continue itself. `serve` puts one
// before every listener it opens, for TLS from files, client-certificate checks and path rules
// (a separate admin listener, one clone). Host, signed headers and bodies pass unchanged.
import http from "node:http";
import https from "node:https";
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

/** The S3 port's front: 100 Continue answered by Node, everything else unchanged. */
export const continueFront = (publicAddr: Addr, internalPort: number) => front(publicAddr, internalPort);

/** Raw header pairs, so repeated headers (Set-Cookie) survive. */
function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}
