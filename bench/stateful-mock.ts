// The Stripe clone beside `stripe-stateful-mock` on the same flows (a developer tool, not part of
// `npm run bench`, so that the project does not depend on it):
//   npm install --prefix /tmp/ssm stripe-stateful-mock
//   STRIPE_STATEFUL_MOCK=/tmp/ssm/node_modules/stripe-stateful-mock node bench/stateful-mock.ts [seconds]
// Flows: `POST /v1/customers` (1 connection: latency; 10: throughput) and a one-off card payment.
// stripe-stateful-mock has no PaymentIntents, so the payment is the Charges API with `tok_visa`,
// which both serve. The clone also writes events, checks the request and keeps a request log.
import { spawn as spawnProcess } from "node:child_process";
import path from "node:path";
import autocannon from "autocannon";
import { readConfig } from "../src/runner/config.ts";
import { startServer } from "../src/runner/server.ts";
import { freePorts } from "./lib.ts";

const dir = process.env.STRIPE_STATEFUL_MOCK;
if (!dir) {
  console.error("stateful-mock: set STRIPE_STATEFUL_MOCK to an installed stripe-stateful-mock package (see the head of this file)");
  process.exit(2);
}
const seconds = Number(process.argv[2] ?? 5);
const ports = await freePorts(7);
const KEY = "bench-stateful-mock-key-0123456789";
const cfg = readConfig(
  {
    MOLAR_CLONES_ADDR: `127.0.0.1:${ports[0]}`, MOLAR_CLONE_STRIPE_ADDR: `127.0.0.1:${ports[1]}`, MOLAR_CLONE_TWILIO_ADDR: `127.0.0.1:${ports[2]}`,
    MOLAR_CLONE_EMAIL_ADDR: `127.0.0.1:${ports[3]}`, MOLAR_CLONE_AUTH_ADDR: `127.0.0.1:${ports[4]}`, MOLAR_CLONE_S3_ADDR: `127.0.0.1:${ports[5]}`,
    MOLAR_CLONES_API_TOKEN: KEY, MOLAR_QUOTA_CONCURRENT_RUNS: "1000", MOLAR_QUOTA_REQUESTS_PER_MINUTE: "1000000000",
  },
  ["--in-memory"],
);
const stack = await startServer(cfg);
const mock = spawnProcess(process.execPath, [path.join(dir, "dist/cli.js")], { env: { ...process.env, PORT: String(ports[6]), LOG_LEVEL: "silent" }, stdio: "ignore" });
try {
  const run = (await (await fetch(`${stack.urls.control}/v1/runs`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify({ kinds: ["stripe"] }) })).json()) as {
    clones: { stripe: { url: string; secretKey: string } };
  };
  const mockUrl = `http://127.0.0.1:${ports[6]}`;
  for (let i = 0; i < 50; i++) {
    if (await fetch(`${mockUrl}/v1/customers`, { headers: { authorization: "Bearer sk_test_mock" } }).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const targets = { clone: { url: run.clones.stripe.url, key: run.clones.stripe.secretKey }, "stripe-stateful-mock": { url: mockUrl, key: "sk_test_mock" } };
  const flows = [
    { name: "POST /v1/customers, 1 conn", path: "/v1/customers", body: "email=bench%40acme.test&name=Bench", connections: 1 },
    { name: "POST /v1/customers, 10 conns", path: "/v1/customers", body: "email=bench%40acme.test&name=Bench", connections: 10 },
    { name: "POST /v1/charges (tok_visa), 1 conn", path: "/v1/charges", body: "amount=1999&currency=usd&source=tok_visa", connections: 1 },
  ];
  const rows: string[] = ["| flow | clone p50 ms | clone req/s | stateful-mock p50 ms | stateful-mock req/s | req/s ratio (clone / mock) |", "| --- | ---: | ---: | ---: | ---: | ---: |"];
  for (const f of flows) {
    const got: Record<string, { p50: number; rps: number; non2xx: number }> = {};
    for (const [who, t] of Object.entries(targets)) {
      const opts = { url: `${t.url}${f.path}`, method: "POST" as const, headers: { authorization: `Bearer ${t.key}`, "content-type": "application/x-www-form-urlencoded" }, body: f.body, connections: f.connections };
      await autocannon({ ...opts, duration: 1 }); // warm-up
      const r = await autocannon({ ...opts, duration: seconds });
      got[who] = { p50: r.latency.p50, rps: r.requests.average, non2xx: r.non2xx };
      if (r.non2xx || r.errors) console.warn(`stateful-mock: ${who} ${f.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    }
    const c = got.clone;
    const m = got["stripe-stateful-mock"];
    rows.push(`| ${f.name} | ${c.p50} | ${Math.round(c.rps)} | ${m.p50} | ${Math.round(m.rps)} | ${(c.rps / m.rps).toFixed(2)} |`);
  }
  console.log(rows.join("\n"));
} finally {
  mock.kill();
  await stack.stop();
}
