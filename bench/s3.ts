// The S3 rows: 16 MiB PUT and GET through the S3 port, workerd's memory while 10 uploads of
// 64 MiB stream in parallel, and `s3rver` (npm) beside the clone for a signed 1 KiB GET. Bodies
// go by presigned URL over node:http, so the timings are the server's, not the SDK's hashing.
import http from "node:http";
import { spawn as spawnChild, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePorts, load, quantile, type Measure } from "./lib.ts";
import type { Ctx } from "./scenarios.ts";

const MiB = 1024 * 1024;
type S3Creds = { url: string; region: string; accessKeyId: string; secretAccessKey: string };

export async function clientOf(c: S3Creds) {
  const { S3Client } = await import("@aws-sdk/client-s3");
  return new S3Client({ endpoint: c.url, region: c.region, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } });
}

/** A presigned URL for `op` ("put" or "get") of bucket/key, valid an hour. */
export async function presign(c: S3Creds, op: "put" | "get", bucket: string, key: string): Promise<string> {
  const { PutObjectCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
  const cmd = op === "put" ? new PutObjectCommand({ Bucket: bucket, Key: key }) : new GetObjectCommand({ Bucket: bucket, Key: key });
  return getSignedUrl(await clientOf(c), cmd, { expiresIn: 3600 });
}

/**
 * The S3 port as `npm start` serves it: the Node front (src/runner/front.ts) in a process
 * of its own before workerd. The runner in this process has one too, but it would share its event
 * loop with the load generator, while s3rver gets a process to itself.
 */
async function s3Front(ctx: Ctx): Promise<string> {
  ctx.state.s3Front ??= (async () => {
    const [port] = await freePorts(1);
    const internal = Number(new URL(ctx.stack.s3InternalUrl).port);
    const front = path.join(import.meta.dirname, "../src/runner/front.ts");
    const script = `import(${JSON.stringify(front)}).then((m) => m.continueFront({ host: "127.0.0.1", port: ${port} }, ${internal})).then(() => console.log("ready"));`;
    await child(script);
    return `http://127.0.0.1:${port}`;
  })();
  return ctx.state.s3Front as Promise<string>;
}

/** A Node child process running `script`, once it prints "ready"; killed when this process exits. */
async function child(script: string): Promise<ChildProcess> {
  const c = spawnChild(process.execPath, ["-e", script], { cwd: path.join(import.meta.dirname, ".."), stdio: ["ignore", "pipe", "inherit"] });
  const kill = () => c.kill();
  process.once("exit", kill);
  c.once("exit", () => process.off("exit", kill));
  await new Promise<void>((resolve, reject) => {
    c.once("exit", (code) => reject(new Error(`child exited with ${code}: ${script.slice(0, 80)}`)));
    c.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
  });
  c.removeAllListeners("exit");
  return c;
}

/** A run of the S3 clone reached through s3Front, with buckets `bench` (a 1 KiB object) and `bench-big`. */
export async function s3Run(ctx: Ctx): Promise<S3Creds> {
  ctx.state.s3Run ??= (async () => {
    const { call } = await import("./lib.ts");
    const run = await call<{ clones: { s3: S3Creds } }>("POST", `${ctx.stack.urls.control}/v1/runs`, { token: ctx.stack.apiToken, body: { kinds: ["s3"], ttlSeconds: 3600 } });
    const creds = { ...run.clones.s3, url: await s3Front(ctx) };
    const { CreateBucketCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const client = await clientOf(creds);
    await client.send(new CreateBucketCommand({ Bucket: "bench-big" }));
    await client.send(new CreateBucketCommand({ Bucket: "bench" }));
    await client.send(new PutObjectCommand({ Bucket: "bench", Key: "one-kib", Body: new Uint8Array(1024).fill(7) }));
    return creds;
  })();
  return ctx.state.s3Run as Promise<S3Creds>;
}

/** A presigned GET of the 1 KiB object: every request carries the signature the clone verifies. */
export async function s3GetReq(ctx: Ctx): Promise<{ url: string }> {
  ctx.state.s3Url ??= presign(await s3Run(ctx), "get", "bench", "one-kib");
  return { url: await (ctx.state.s3Url as Promise<string>) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/** PUTs `size` bytes to `url`, written in 1 MiB chunks of `chunk` (never held whole); answers the status. */
export function putStream(url: string, size: number, chunk: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "PUT", agent, headers: { "content-length": size } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

/** GETs `url` to the last byte; answers the status and the bytes read. */
export function getAll(url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let bytes = 0;
        res.on("data", (d: Buffer) => (bytes += d.length));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

/** Times `op` one at a time: 2 unrecorded runs, then until `duration` seconds pass (at least 5 runs). */
async function timed(duration: number, op: () => Promise<boolean>): Promise<Measure> {
  for (let i = 0; i < 2; i++) await op();
  const ms: number[] = [];
  let non2xx = 0;
  const until = performance.now() + duration * 1000;
  while (ms.length < 5 || performance.now() < until) {
    const t = performance.now();
    if (await op()) ms.push(performance.now() - t);
    else non2xx++;
  }
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), rps: ms.length / duration, ok: ms.length, errors: 0, non2xx, connections: 1 };
}

const BIG = 16 * MiB;
const bigBody = Buffer.alloc(MiB, 0x5a);

export async function put16(ctx: Ctx): Promise<Measure> {
  const c = await s3Run(ctx);
  const url = await presign(c, "put", "bench-big", "sixteen");
  return timed(ctx.settings.duration, async () => (await putStream(url, BIG, bigBody)) === 200);
}

export async function get16(ctx: Ctx): Promise<Measure> {
  const c = await s3Run(ctx);
  await putStream(await presign(c, "put", "bench-big", "sixteen"), BIG, bigBody);
  const url = await presign(c, "get", "bench-big", "sixteen");
  return timed(ctx.settings.duration, async () => {
    const r = await getAll(url);
    return r.status === 200 && r.bytes === BIG;
  });
}

/** Resident memory (KiB) of the workerd processes this process started (as bench/soak.ts reads it). */
function workerdRssKiB(): number {
  let total = 0;
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      if (!/^Name:\s+workerd/m.test(status) || !new RegExp(`^PPid:\\s+${process.pid}$`, "m").test(status)) continue;
      total += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return total;
}

const PARALLEL = 10;
const EACH = 64 * MiB;
const SMALL_EACH = 8 * MiB;

/** One round of PARALLEL uploads of `each` bytes, workerd's RSS sampled every 100 ms. */
async function round(urls: string[], each: number) {
  const before = workerdRssKiB();
  let peak = before;
  const samples: number[] = [];
  const timer = setInterval(() => {
    const v = workerdRssKiB();
    samples.push(v);
    peak = Math.max(peak, v);
  }, 100);
  const t0 = performance.now();
  const statuses = await Promise.all(urls.map((u) => putStream(u, each, bigBody)));
  const wallMs = performance.now() - t0;
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 1000));
  return { before, peak, after: workerdRssKiB(), wallMs, samples, failed: statuses.filter((s) => s !== 200).length };
}

/**
 * 10 uploads of 8 MiB at once, then 10 of 64 MiB twice, workerd's RSS sampled every 100 ms.
 * Memory that held bodies would grow with them (by 560 MiB more with 64 MiB bodies); the verdict
 * is on how much higher the 64 MiB round's peak is (extra.growthMiB); the repeat shows whether
 * memory keeps climbing with the bytes moved. p50 is the first 64 MiB round's wall time.
 */
export async function parallelUploads(ctx: Ctx): Promise<Measure> {
  const c = await s3Run(ctx);
  const urls = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => presign(c, "put", "bench-big", `par-${i}`)));
  await putStream(urls[0], SMALL_EACH, bigBody); // warms the path; the object is overwritten below
  const small = await round(urls, SMALL_EACH);
  const big = await round(urls, EACH);
  // Again: memory that accumulates with the bytes moved (rather than a heap settling) climbs again.
  const again = await round(urls, EACH);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return {
    p50: big.wallMs,
    p99: null,
    rps: null,
    ok: 3 * PARALLEL - small.failed - big.failed - again.failed,
    errors: 0,
    non2xx: small.failed + big.failed + again.failed,
    extra: {
      uploads: PARALLEL,
      eachMiB: EACH / MiB,
      smallEachMiB: SMALL_EACH / MiB,
      beforeMiB: mib(small.before),
      smallPeakMiB: mib(small.peak),
      peakMiB: mib(big.peak),
      afterMiB: mib(big.after),
      growthMiB: mib(big.peak - small.peak),
      againPeakMiB: mib(again.peak),
      againGrowthMiB: mib(again.peak - big.peak),
      throughputMiBps: Math.round((PARALLEL * EACH) / MiB / (big.wallMs / 1000)),
      rssSamplesMiB: big.samples.filter((_, i) => i % 10 === 0).map(mib),
    },
  };
}

// ---- s3rver beside the clone

interface S3rver {
  creds: S3Creds;
  stop(): Promise<void>;
}

/** s3rver in a Node process of its own (as the clone's workerd is), on a free port, files under a temp dir. */
async function startS3rver(): Promise<S3rver> {
  const [port] = await freePorts(1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "molar-s3rver-"));
  const c = await child(`const S3rver = require("s3rver"); new S3rver({ port: ${port}, address: "127.0.0.1", silent: true, directory: ${JSON.stringify(dir)}, configureBuckets: [{ name: "bench" }] }).run().then(() => console.log("ready"));`);
  return {
    creds: { url: `http://127.0.0.1:${port}`, region: "us-east-1", accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    stop: async () => {
      c.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** s3rver's signed 1 KiB GET at `connections`, measured like the clone's row. */
export async function s3rverGet(ctx: Ctx, connections: number): Promise<Measure> {
  const s = await startS3rver();
  try {
    const { PutObjectCommand } = await import("@aws-sdk/client-s3");
    await (await clientOf(s.creds)).send(new PutObjectCommand({ Bucket: "bench", Key: "one-kib", Body: new Uint8Array(1024).fill(7) }));
    const url = await presign(s.creds, "get", "bench", "one-kib");
    return await load({ url, connections, duration: ctx.settings.duration, warmup: ctx.settings.warmup });
  } finally {
    await s.stop();
  }
}
