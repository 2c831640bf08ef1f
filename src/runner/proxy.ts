// The route proxy: an HTTP(S) forward proxy for apps that cannot be given a base URL. CONNECTs to the
// vendors' API hosts are terminated with certificates from the local CA and passed to the clone of
// that vendor, where the request's own credentials pick the run; any other live-vendor host is
// refused and counted, so a misconfigured app fails loudly instead of reaching production.
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import type { Addr, Kind } from "./config.ts";
import type { Ca } from "./proxy-ca.ts";
import { isLiveVendorUrl } from "../lib/live-vendor.ts";

export type Route =
  | { to: "clone"; kind: Kind; prefix: string; keepHost: boolean }
  | { to: "refuse"; why: string }
  | { to: "pass" };

const S3_HOST = /^(?:(.+)\.)?s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com$/;

/** Where a request for `host` goes. `clones` are the clones' own host:port pairs, always allowed. */
export function routeFor(host: string, strict: boolean, clones: Set<string> = new Set()): Route {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "api.stripe.com" || h === "files.stripe.com") return { to: "clone", kind: "stripe", prefix: "", keepHost: false };
  if (h === "api.twilio.com") return { to: "clone", kind: "twilio", prefix: "", keepHost: false };
  const tw = /^([a-z0-9-]+)\.twilio\.com$/.exec(h);
  if (tw && tw[1] !== "www" && tw[1] !== "console") return { to: "clone", kind: "twilio", prefix: `/${tw[1]}`, keepHost: false };
  if (h === "api.resend.com") return { to: "clone", kind: "email", prefix: "", keepHost: false };
  if (h === "api.clerk.com" || h === "api.clerk.dev") return { to: "clone", kind: "auth", prefix: "", keepHost: false };
  // SigV4 signs the Host header, so S3 requests reach the clone with theirs unchanged.
  if (S3_HOST.test(h)) return { to: "clone", kind: "s3", prefix: "", keepHost: true };
  if (isLiveVendorUrl(`https://${h}/`)) {
    return { to: "refuse", why: `${h} is a live vendor (or cloud metadata) host the clones do not serve; molar-clones proxy never lets a request reach it. Point the app at the clone's URL (see \`molar-clones env\`) or use a host the proxy routes (api.stripe.com, api.twilio.com, *.twilio.com, api.resend.com, api.clerk.com, S3).` };
  }
  if (clones.has(h) || [...clones].some((c) => c.split(":")[0] === h)) return { to: "pass" };
  if (strict) return { to: "refuse", why: `${h} is not a clone; molar-clones proxy runs in strict mode (PROXY_STRICT=1), which refuses every other destination.` };
  return { to: "pass" };
}

export interface ProxyOptions {
  listen: Addr;
  ca: Ca;
  clones: Record<Kind, URL>;
  strict: boolean;
  /** Told of each refusal (host, why), e.g. to count it in the control plane. */
  onRefuse?: (host: string, why: string) => void;
}

export interface Proxy {
  port: number;
  refused: () => number;
  close(): Promise<void>;
}

const hostOf = (authority: string) => {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(authority) ?? /^([^:]+)(?::(\d+))?$/.exec(authority);
  return m ? { host: m[1], port: m[2] ? Number(m[2]) : null } : null;
};

export async function startProxy(o: ProxyOptions): Promise<Proxy> {
  let refused = 0;
  const cloneHosts = new Set(Object.values(o.clones).map((u) => u.host.toLowerCase()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  // As in front.ts: large bodies on a connection of their own (workerd resets reused ones).
  const fresh = new http.Agent({ keepAlive: false, maxSockets: 64 });
  const refuse = (host: string, why: string) => {
    refused++;
    o.onRefuse?.(host, why);
    console.error(`molar-clones proxy: refused ${host}: ${why}`);
  };

  /** Sends one request to a clone, bodies streamed both ways. */
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, route: Extract<Route, { to: "clone" }>, path: string) => {
    const base = o.clones[route.kind];
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    delete headers["proxy-authorization"];
    if (!route.keepHost) headers.host = base.host;
    const big = Number(req.headers["content-length"] ?? (req.headers["transfer-encoding"] ? Infinity : 0)) >= 1024 * 1024;
    const up = http.request({ host: base.hostname, port: base.port || 80, method: req.method, path: route.prefix + path, headers, agent: big ? fresh : agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", (e) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`molar-clones proxy: the ${route.kind} clone at ${base.origin} is not reachable (${e.message}); is \`npm start\` running?`);
    });
    req.pipe(up);
  };

  const refuseHttp = (res: http.ServerResponse, host: string, why: string) => {
    refuse(host, why);
    res.writeHead(403, { "content-type": "text/plain", "x-molar-refused": "live-vendor" });
    res.end(`molar-clones proxy: refused. ${why}\n`);
  };

  // Requests arriving inside a terminated tunnel: the tunnel's route is on the socket.
  const inner = http.createServer((req, res) => {
    const route = (req.socket as tls.TLSSocket & { molarRoute?: Extract<Route, { to: "clone" }> }).molarRoute;
    if (!route) return void res.writeHead(421).end();
    forward(req, res, route, req.url ?? "/");
  });

  const contexts = new Map<string, Promise<tls.SecureContext>>();
  const contextFor = (host: string) => {
    let p = contexts.get(host);
    if (!p) contexts.set(host, (p = o.ca.leaf(host).then((l) => tls.createSecureContext({ key: l.key, cert: l.cert }))));
    return p;
  };

  const outer = http.createServer((req, res) => {
    // Absolute-form requests (plain http:// through the proxy).
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      return void res.writeHead(400, { "content-type": "text/plain" }).end("molar-clones proxy: expected an absolute URL\n");
    }
    const route = routeFor(url.hostname, o.strict, cloneHosts);
    if (route.to === "refuse") return refuseHttp(res, url.hostname, route.why);
    if (route.to === "clone") return forward(req, res, route, url.pathname + url.search);
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    const up = http.request({ host: url.hostname, port: url.port || 80, method: req.method, path: url.pathname + url.search, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", (e) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`molar-clones proxy: ${url.host} is not reachable (${e.message})\n`);
    });
    req.pipe(up);
  });

  outer.on("connect", (req: http.IncomingMessage, sock: Duplex, head: Buffer) => {
    const target = hostOf(req.url ?? "");
    sock.on("error", () => undefined);
    if (!target) return void sock.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    const route = routeFor(target.host, o.strict, cloneHosts);
    if (route.to === "refuse") {
      refuse(target.host, route.why);
      const body = `molar-clones proxy: refused. ${route.why}\n`;
      return void sock.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nx-molar-refused: live-vendor\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    if (route.to === "pass") {
      const up = net.connect(target.port ?? 443, target.host, () => {
        sock.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length) up.write(head);
        up.pipe(sock);
        sock.pipe(up);
      });
      up.on("error", () => sock.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
      return;
    }
    contextFor(target.host).then(
      (secureContext) => {
        sock.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length) sock.unshift(head);
        const t = new tls.TLSSocket(sock, { isServer: true, secureContext, ALPNProtocols: ["http/1.1"] }) as tls.TLSSocket & { molarRoute?: typeof route };
        t.molarRoute = route;
        t.on("error", () => sock.destroy());
        inner.emit("connection", t);
      },
      () => sock.end("HTTP/1.1 500 Internal Server Error\r\n\r\n"),
    );
  });

  await new Promise<void>((resolve, reject) => {
    outer.once("error", reject);
    outer.listen(o.listen.port, o.listen.host, () => resolve());
  });
  return {
    port: (outer.address() as net.AddressInfo).port,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        outer.closeAllConnections();
        inner.closeAllConnections();
        agent.destroy();
        fresh.destroy();
        outer.close(() => resolve());
      }),
  };
}
