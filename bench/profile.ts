// CPU profile of workerd under one load (a developer tool, not part of `npm run bench`):
//   node bench/profile.ts [send|get|spawn|stripe|snapshot|restore|renewals|s3get|s3put|s3get16] [seconds | subscriptions | uploads]
// Starts the runner with its inspector open, samples V8 while autocannon drives the scenario, and
// prints the functions with the most self time. The S3 modes go through the runner's Node front
// (as the bench rows do) and also sample Miniflare's R2 workers, where stored bytes go.
import autocannon from "autocannon";
import { readConfig } from "../src/runner/config.ts";
import { startServer } from "../src/runner/server.ts";
import { buildWorker } from "../src/runner/build.ts";
import { freePorts } from "./lib.ts";
import { clientOf, getAll, presign, putStream } from "./s3.ts";

const what = process.argv[2] ?? "send";
const seconds = Number(process.argv[3] ?? 5);
const ports = await freePorts(7);
const KEY = "profile-org-key-0123456789abcdef";
const cfg = readConfig(
  {
    MOLAR_CLONES_ADDR: `127.0.0.1:${ports[0]}`, MOLAR_CLONE_STRIPE_ADDR: `127.0.0.1:${ports[1]}`, MOLAR_CLONE_TWILIO_ADDR: `127.0.0.1:${ports[2]}`,
    MOLAR_CLONE_EMAIL_ADDR: `127.0.0.1:${ports[3]}`, MOLAR_CLONE_AUTH_ADDR: `127.0.0.1:${ports[4]}`, MOLAR_CLONE_S3_ADDR: `127.0.0.1:${ports[5]}`,
    MOLAR_CLONES_INSPECTOR_PORT: String(ports[6]), MOLAR_CLONES_API_TOKEN: KEY, MOLAR_QUOTA_CONCURRENT_RUNS: "1000000", MOLAR_QUOTA_REQUESTS_PER_MINUTE: "1000000000",
  },
  ["--in-memory"],
);
const s = await startServer(cfg);
// The Worker's source as the runner built it: PROFILE_LINES prints its hottest lines.
const code = process.env.PROFILE_LINES ? await buildWorker() : "";
try {
  const run = (await (await fetch(`${s.urls.control}/v1/runs`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify({ kinds: ["email", "stripe", "s3"] }) })).json()) as {
    clones: { email: { url: string; apiKey: string }; stripe: { url: string; secretKey: string }; s3: { url: string; region: string; accessKeyId: string; secretAccessKey: string } };
  };
  const targets = (await (await fetch(`http://127.0.0.1:${ports[6]}/json`)).json()) as { id: string; title: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => !/miniflare|entry|proxy/i.test(t.title)) ?? targets[0];
  const session = async (url: string) => {
    const ws = new WebSocket(url);
    await new Promise((r) => ws.addEventListener("open", r, { once: true }));
    let seq = 0;
    const pending = new Map<number, (v: any) => void>();
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data));
      if (m.id && pending.has(m.id)) pending.get(m.id)!(m.result);
    });
    const cdp = (method: string, params: object = {}) => new Promise<any>((resolve) => { const id = ++seq; pending.set(id, resolve); ws.send(JSON.stringify({ id, method, params })); });
    await cdp("Profiler.enable");
    await cdp("Profiler.setSamplingInterval", { interval: Number(process.env.PROFILE_INTERVAL_US ?? 50) });
    return { ws, cdp };
  };
  const { ws, cdp } = await session(target.webSocketDebuggerUrl);
  // The S3 modes also sample the R2 simulator's workers (the bucket's object holds the bytes).
  const r2 = /^s3/.test(what) ? await Promise.all(targets.filter((t) => /^workerd: worker r2:/.test(t.title)).map(async (t) => ({ title: t.title, ...(await session(t.webSocketDebuggerUrl)) }))) : [];
  const r2Profiles: { title: string; profile: any }[] = [];
  const email = JSON.stringify({ from: "a@acme.test", to: "b@acme.test", subject: "hi", text: "hello" });
  const opts: { url: string; method?: "GET" | "POST"; headers: Record<string, string>; body?: string } =
    what === "stripe"
      ? { url: `${run.clones.stripe.url}/v1/customers`, method: "POST" as const, headers: { authorization: `Bearer ${run.clones.stripe.secretKey}`, "content-type": "application/x-www-form-urlencoded" }, body: "email=bench%40acme.test&name=Bench" }
      : what === "spawn"
      ? { url: `${s.urls.control}/v1/runs`, method: "POST" as const, headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify({ kinds: ["email"] }) }
      : what === "get"
        ? { url: `${run.clones.email.url}/emails`, headers: { authorization: `Bearer ${run.clones.email.apiKey}` } }
        : { url: `${run.clones.email.url}/emails`, method: "POST" as const, headers: { authorization: `Bearer ${run.clones.email.apiKey}`, "content-type": "application/json" }, body: email };
  let profile: any;
  let requests = 0;
  if (what === "renewals") {
    // `seconds` subscriptions (default 300) renewing at one instant, then one profiled 30-day advance.
    const n = Number(process.argv[3] ?? 300);
    const r = run as unknown as { adminUrl: string; token: string; clones: { stripe: { url: string; secretKey: string } } };
    const admin = (m: string, p: string, b?: unknown) =>
      fetch(`${r.adminUrl}${p}`, { method: m, headers: { authorization: `Bearer ${r.token}` }, body: b === undefined ? undefined : JSON.stringify(b) }).then((x) => x.json() as Promise<any>);
    const post = (p: string, b: string) =>
      fetch(`${r.clones.stripe.url}${p}`, { method: "POST", headers: { authorization: `Bearer ${r.clones.stripe.secretKey}`, "content-type": "application/x-www-form-urlencoded" }, body: b }).then((x) => x.json() as Promise<any>);
    await admin("POST", "/clock/freeze");
    const price = await post("/v1/prices", "currency=usd&unit_amount=1500&recurring[interval]=day&recurring[interval_count]=30&product_data[name]=P");
    const cus = await post("/v1/customers", "email=p%40acme.test");
    const pm = await post("/v1/payment_methods/pm_card_visa/attach", `customer=${cus.id}`);
    await post(`/v1/customers/${cus.id}`, `invoice_settings[default_payment_method]=${pm.id}`);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await post("/v1/subscriptions", `customer=${cus.id}&items[0][price]=${price.id}`);
    console.log(`seeded ${n} subscriptions in ${(performance.now() - t0).toFixed(0)} ms`);
    await cdp("Profiler.start");
    const t1 = performance.now();
    const fired = await admin("POST", "/clock/advance", { by: "30d" });
    console.log(`advance: ${(performance.now() - t1).toFixed(1)} ms, ${fired.fired.map((f: { what: string }) => f.what).join("; ").slice(0, 200)}`);
    profile = (await cdp("Profiler.stop")).profile;
  } else if (what === "pi") {
    // PaymentIntent create + confirm pairs, one at a time, for `seconds`.
    const st = run.clones.stripe;
    const post = (p: string, b: string) =>
      fetch(`${st.url}${p}`, { method: "POST", headers: { authorization: `Bearer ${st.secretKey}`, "content-type": "application/x-www-form-urlencoded" }, body: b }).then((x) => x.json() as Promise<any>);
    await cdp("Profiler.start");
    const until = performance.now() + seconds * 1000;
    const pairs: number[] = [];
    while (performance.now() < until) {
      const t = performance.now();
      const pi = await post("/v1/payment_intents", "amount=1999&currency=usd&payment_method=pm_card_visa&payment_method_types[]=card");
      await post(`/v1/payment_intents/${pi.id}/confirm`, "");
      pairs.push(performance.now() - t);
    }
    profile = (await cdp("Profiler.stop")).profile;
    pairs.sort((x, y) => x - y);
    console.log(`pi: ${pairs.length} pairs, p50 ${pairs[pairs.length >> 1].toFixed(2)} ms`);
    requests = pairs.length;
  } else if (what === "snapshot" || what === "restore") {
    // A 10,000-email world, then timed snapshots and restores under the profiler.
    const r = run as unknown as { adminUrl: string; token: string; clones: { email: { url: string; apiKey: string } } };
    const admin = (m: string, p: string, b?: unknown) =>
      fetch(`${r.adminUrl}${p}`, { method: m, headers: { authorization: `Bearer ${r.token}` }, body: b === undefined ? undefined : JSON.stringify(b) }).then((x) => x.json() as Promise<any>);
    await admin("POST", "/clock/freeze");
    const batch = JSON.stringify(Array.from({ length: 100 }, () => JSON.parse(email)));
    for (let i = 0; i < 100; i++) {
      await fetch(`${r.clones.email.url}/emails/batch`, { method: "POST", headers: { authorization: `Bearer ${r.clones.email.apiKey}`, "content-type": "application/json" }, body: batch });
    }
    const snap = await admin("POST", "/snapshots", {});
    await cdp("Profiler.start");
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      if (what === "snapshot") await admin("POST", "/snapshots", {});
      else await admin("POST", `/snapshots/${snap.id}/restore`);
      console.log(`${what} ${i}: ${(performance.now() - t0).toFixed(1)} ms`);
    }
    profile = (await cdp("Profiler.stop")).profile;
  } else if (what === "s3put" || what === "s3get16") {
    // `seconds` uploads (or downloads) of 16 MiB, one at a time, timed, under the profiler.
    const c = run.clones.s3;
    const { CreateBucketCommand } = await import("@aws-sdk/client-s3");
    await (await clientOf(c)).send(new CreateBucketCommand({ Bucket: "prof" }));
    const MiB = 1024 * 1024;
    const chunk = Buffer.alloc(MiB, 0x5a);
    const put = await presign(c, "put", "prof", "sixteen");
    const get = await presign(c, "get", "prof", "sixteen");
    for (let i = 0; i < 2; i++) await putStream(put, 16 * MiB, chunk);
    const n = Number(process.argv[3] ?? 5);
    await Promise.all([cdp, ...r2.map((x) => x.cdp)].map((f) => f("Profiler.start")));
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const ok = what === "s3put" ? (await putStream(put, 16 * MiB, chunk)) === 200 : (await getAll(get)).bytes === 16 * MiB;
      if (!ok) throw new Error(`${what} failed`);
      ms.push(performance.now() - t0);
    }
    profile = (await cdp("Profiler.stop")).profile;
    for (const x of r2) r2Profiles.push({ title: x.title, profile: (await x.cdp("Profiler.stop")).profile });
    console.log(`${what}: ${ms.map((m) => m.toFixed(0)).join(", ")} ms`);
  } else {
    if (what === "s3get") {
      const c = run.clones.s3;
      const { CreateBucketCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
      const client = await clientOf(c);
      await client.send(new CreateBucketCommand({ Bucket: "prof" }));
      await client.send(new PutObjectCommand({ Bucket: "prof", Key: "one-kib", Body: new Uint8Array(1024).fill(7) }));
      Object.assign(opts, { url: await presign(c, "get", "prof", "one-kib"), method: "GET", headers: {}, body: undefined });
    }
    await cdp("Profiler.start");
    const result = await autocannon({ ...opts, connections: Number(process.env.PROFILE_CONNECTIONS ?? 1), duration: seconds });
    profile = (await cdp("Profiler.stop")).profile;
    console.log(`${what}: p50 ${result.latency.p50} ms, ${result.requests.average} req/s over ${seconds}s (target: ${target.title})`);
    requests = result.requests.total;
  }
  ws.close();
  for (const x of r2) x.ws.close();
  const report = (title: string, profile: any) => {
  console.log(`--- ${title}`);
  const self = new Map<string, number>();
  const dt = profile.timeDeltas as number[];
  const byId = new Map<number, { callFrame: { functionName: string; url: string; lineNumber: number } }>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const samples = profile.samples as number[];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i])!;
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
    total += dt[i] ?? 0;
  }
  // CPU per request in the isolate: a figure that other load on the machine disturbs less than req/s.
  if (requests) console.log(`busy ${(((total - (self.get("(idle) :0") ?? 0)) / requests)).toFixed(0)} µs of isolate time per request`);
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
  console.log(`sampled ${(total / 1000).toFixed(0)} ms`);
  for (const [k, us] of top) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  // Inclusive time (a function and everything it called), each function counted once per stack.
  if (process.env.PROFILE_INCLUSIVE) {
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const incl = new Map<string, number>();
    for (let i = 0; i < samples.length; i++) {
      const seen = new Set<string>();
      for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
        if (!seen.has(key)) incl.set(key, (incl.get(key) ?? 0) + (dt[i] ?? 0));
        seen.add(key);
      }
    }
    console.log("-- inclusive");
    for (const [k, us] of [...incl.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_INCLUSIVE))) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
  // Hottest source lines (V8's position ticks) of the Worker's own code: PROFILE_LINES=n.
  if (process.env.PROFILE_LINES && title === target.title) {
    const lines = new Map<string, number>();
    for (const n of profile.nodes) {
      const f = n.callFrame;
      if (!/molar-worker/.test(f.url)) continue;
      for (const t of n.positionTicks ?? []) lines.set(`${f.functionName || "(anonymous)"}:${t.line}`, (lines.get(`${f.functionName || "(anonymous)"}:${t.line}`) ?? 0) + t.ticks);
    }
    const src = code.split("\n");
    console.log("-- lines");
    for (const [k, ticks] of [...lines.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_LINES))) {
      console.log(`${((ticks / samples.length) * 100).toFixed(2).padStart(5)}%  ${k}  ${src[Number(k.split(":").pop()) - 1]?.trim().slice(0, 100)}`);
    }
  }
  };
  // PROFILE_OUT=file.cpuprofile keeps the Worker's profile (for DevTools, or inclusive times).
  if (process.env.PROFILE_OUT) (await import("node:fs")).writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));
  report(target.title, profile);
  for (const p of r2Profiles) report(p.title, p.profile);
} finally {
  await s.stop();
}
