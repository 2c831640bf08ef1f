// A pass-through HTTP front for the S3 port. workerd never answers `Expect: 100-continue`, and the
// AWS SDK sends it for bodies of 2 MB and more, then waits 6 s before sending the body anyway.
// Node's server answers 100 Continue itself; everything else (Host, signed headers, the body in
// both directions) passes unchanged to workerd on an internal loopback port.
import http from "node:http";
import type { Addr } from "./config.ts";

export interface Front {
  close(): Promise<void>;
}

export async function continueFront(publicAddr: Addr, internalPort: number): Promise<Front> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.expect;
    const up = http.request({ host: "127.0.0.1", port: internalPort, method: req.method, path: req.url, headers, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.rawHeaders.length ? pairs(r.rawHeaders) : r.headers);
      r.pipe(res);
    });
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/xml" });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>The S3 clone is not reachable.</Message></Error>');
    });
    req.pipe(up);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(publicAddr.port, publicAddr.host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

/** Raw header pairs, so repeated headers (Set-Cookie) survive. */
function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}
