// `npm run soak`: 50 concurrent runs under a mixed workload across all five clones for 60 s (SOAK_SECONDS, SOAK_RUNS to
// change), on loopback, against the in-process runner. Reports throughput, p50/p99, errors (must
// be 0), workerd's memory over time (must stay flat) and that the concurrent-runs quota holds.
import { readdirSync, readFileSync } from "node:fs";
import { readConfig } from "../src/runner/config.ts";
import { startServer } from "../src/runner/server.ts";
import { freePorts } from "./lib.ts";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";

const RUNS = Number(process.env.SOAK_RUNS ?? 50);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const KEY = "soak-org-key-0123456789abcdef";

/** Resident memory (KiB) of the workerd processes this process started. */
function workerdRssKiB(): number {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s+workerd/m.test(status) || !new RegExp(`^PPid:\\s+${process.pid}$`, "m").test(status)) continue;
      total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return total;
}

const ports = await freePorts(6);
const names = ["CLONES", "CLONE_STRIPE", "CLONE_TWILIO", "CLONE_EMAIL", "CLONE_AUTH", "CLONE_S3"];
const env: NodeJS.ProcessEnv = { MOLAR_CLONES_API_TOKEN: KEY, MOLAR_QUOTA_CONCURRENT_RUNS: String(RUNS), MOLAR_QUOTA_REQUESTS_PER_MINUTE: "1000000" };
names.forEach((n, i) => (env[`MOLAR_${n}_ADDR`] = `127.0.0.1:${ports[i]}`));
const s = await startServer(readConfig(env, ["--in-memory"]));
const control = s.urls.control;
const auth = { authorization: `Bearer ${KEY}` };

type Run = {
  runId: string; token: string; adminUrl: string;
  clones: {
    email: { url: string; apiKey: string };
    stripe: { url: string; secretKey: string };
    twilio: { url: string; accountSid: string; authToken: string };
    auth: { url: string; secretKey: string };
    s3: { url: string; region: string; accessKeyId: string; secretAccessKey: string };
  };
};
const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await fetch(`${control}/v1/runs`, { method: "POST", headers: auth, body: JSON.stringify({ runId: `soak-${i}`, ttlSeconds: SECONDS + 600 }) });
  if (r.status !== 201) throw new Error(`spawn ${i}: ${r.status} ${await r.text()}`);
  runs.push((await r.json()) as Run);
}
const over = await fetch(`${control}/v1/runs`, { method: "POST", headers: auth, body: "{}" });
const quotaHeld = over.status === 429 && Number(over.headers.get("retry-after")) > 0;

const lat: Record<string, number[]> = {};
const errors: string[] = [];
let ops = 0;
const mem: { at: number; kib: number }[] = [];
const t0 = performance.now();
const deadline = t0 + SECONDS * 1000;
const memTimer = setInterval(() => mem.push({ at: Math.round((performance.now() - t0) / 1000), kib: workerdRssKiB() }), 5000);
mem.push({ at: 0, kib: workerdRssKiB() });

/** One timed operation; `ok` says whether the answer is the one the vendor gives (default: < 400). */
async function timed(op: string, fn: () => Promise<Response>, ok = (r: Response) => r.status < 400): Promise<Response | null> {
  const t = performance.now();
  let res: Response;
  try {
    res = await fn();
    const copy = res.clone();
    await res.arrayBuffer();
    res = copy;
  } catch (e) {
    errors.push(`${op}: ${(e as Error).message}`);
    return null;
  }
  (lat[op] ??= []).push(performance.now() - t);
  ops++;
  if (!ok(res)) errors.push(`${op}: HTTP ${res.status}`);
  return res;
}

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();

/** A mixed workload across all five clones, as an app's test suite drives them, plus admin calls. */
async function worker(run: Run, w: number) {
  const { email, stripe, twilio, auth: clerk, s3 } = run.clones;
  const eh = { authorization: `Bearer ${email.apiKey}`, "content-type": "application/json" };
  const sh = { authorization: `Bearer ${stripe.secretKey}`, "content-type": "application/x-www-form-urlencoded" };
  const th = { authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" };
  const ch = { authorization: `Bearer ${clerk.secretKey}`, "content-type": "application/json" };
  const a = { authorization: `Bearer ${run.token}` };
  const bucket = new S3Client({ endpoint: s3.url, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  await bucket.send(new CreateBucketCommand({ Bucket: `soak-${w}` }));
  const body = new Uint8Array(1024).fill(w % 251);
  let lastEmail = "";
  for (let i = 0; performance.now() < deadline; i++) {
    switch (i % 20) {
      case 0: case 1: case 2: {
        const r = await timed("email send", () => fetch(`${email.url}/emails`, { method: "POST", headers: eh, body: JSON.stringify({ from: "a@acme.test", to: `u${w}@acme.test`, subject: `s${i}`, text: "x" }) }));
        if (r?.ok) lastEmail = ((await r.json()) as { id: string }).id;
        break;
      }
      case 3:
        if (lastEmail) await timed("email get", () => fetch(`${email.url}/emails/${lastEmail}`, { headers: eh }));
        break;
      case 4: case 5:
        await timed("stripe customer", () => fetch(`${stripe.url}/v1/customers`, { method: "POST", headers: sh, body: form({ email: `c${i}@acme.test` }) }));
        break;
      case 6:
        await timed("stripe payment", () => fetch(`${stripe.url}/v1/payment_intents`, { method: "POST", headers: sh, body: form({ amount: "1999", currency: "usd", payment_method: "pm_card_visa", confirm: "true" }) }));
        break;
      case 7:
        await timed("stripe list", () => fetch(`${stripe.url}/v1/customers?limit=10`, { headers: sh }));
        break;
      case 8: case 9:
        await timed("twilio sms", () => fetch(`${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`, { method: "POST", headers: th, body: form({ From: "+15005550006", To: `+1555${String(1000000 + w).slice(-7)}`, Body: `m${i}` }) }));
        break;
      case 10:
        await timed("twilio list", () => fetch(`${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json?PageSize=20`, { headers: th }));
        break;
      case 11: case 12:
        await timed("clerk user", () => fetch(`${clerk.url}/v1/users`, { method: "POST", headers: ch, body: JSON.stringify({ email_address: [`u${w}-${i}@acme.test`] }) }));
        break;
      case 13:
        await timed("clerk list", () => fetch(`${clerk.url}/v1/users?limit=10`, { headers: ch }));
        break;
      case 14: case 15: {
        const t = performance.now();
        try {
          await bucket.send(new PutObjectCommand({ Bucket: `soak-${w}`, Key: `k${i % 100}`, Body: body }));
          (lat["s3 put"] ??= []).push(performance.now() - t);
          ops++;
        } catch (e) {
          errors.push(`s3 put: ${(e as Error).name}`);
        }
        break;
      }
      case 16: {
        const t = performance.now();
        try {
          const o = await bucket.send(new GetObjectCommand({ Bucket: `soak-${w}`, Key: `k${(i - 2) % 100}` }));
          await o.Body!.transformToByteArray();
          (lat["s3 get"] ??= []).push(performance.now() - t);
          ops++;
        } catch (e) {
          errors.push(`s3 get: ${(e as Error).name}`);
        }
        break;
      }
      case 17:
        await timed("advance 10s", () => fetch(`${run.adminUrl}/clock/advance`, { method: "POST", headers: a, body: JSON.stringify({ by: "10s" }) }));
        break;
      case 18:
        await timed("inbox", () => fetch(`${run.adminUrl}/inbox?to=u${w}@acme.test`, { headers: a }));
        break;
      default:
        if (i % 400 === 19) await timed("snapshot", () => fetch(`${run.adminUrl}/snapshots`, { method: "POST", headers: a, body: "{}" }));
        else await timed("logs", () => fetch(`${run.adminUrl}/logs?status=500`, { headers: a }));
    }
  }
  bucket.destroy();
}

await Promise.all(runs.map((r, i) => worker(r, i)));
clearInterval(memTimer);
mem.push({ at: SECONDS, kib: workerdRssKiB() });
const elapsed = (performance.now() - t0) / 1000;
await s.stop();

const q = (xs: number[], p: number) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN;
};
console.log(`soak: ${RUNS} runs, ${SECONDS} s, ${ops} operations, ${(ops / elapsed).toFixed(0)} ops/s, errors ${errors.length}`);
console.log("| op | count | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |");
for (const [op, xs] of Object.entries(lat)) console.log(`| ${op} | ${xs.length} | ${q(xs, 0.5).toFixed(2)} | ${q(xs, 0.99).toFixed(2)} |`);
console.log(`workerd RSS (MiB) by second: ${mem.map((m) => `${m.at}s ${(m.kib / 1024).toFixed(0)}`).join(", ")}`);
// Worlds grow as they are written (rows, caches), so memory rises while data does; a leak keeps
// rising at the same rate. Compare the two halves after warm-up: flat means the second half grew
// far less than the first (or not at all).
const warm = mem.filter((m) => m.at >= 10);
const mid = warm[Math.floor(warm.length / 2)] ?? mem[0];
const firstHalf = warm.length ? mid.kib - warm[0].kib : 0;
const secondHalf = warm.length ? warm[warm.length - 1].kib - mid.kib : 0;
const flat = secondHalf <= Math.max(firstHalf * 0.5, 16 * 1024);
console.log(`memory after warm-up: first half +${(firstHalf / 1024).toFixed(0)} MiB, second half +${(secondHalf / 1024).toFixed(0)} MiB (flat: ${flat}); quota of ${RUNS} concurrent runs held: ${quotaHeld}`);
if (errors.length) console.log(`first errors: ${errors.slice(0, 5).join("; ")}`);
process.exit(errors.length === 0 && quotaHeld ? 0 : 1);
