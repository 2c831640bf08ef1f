// Browser uploads to the S3 clone: CORS preflights answered from the bucket's CORS rules, POST
// form uploads signed by `@aws-sdk/s3-presigned-post` with their policy checked on the run clock,
// and the same flows from a page on another origin in Chromium. Also the s3 chaos presets that
// act on particular operations (`slow_put`, `503_restore`).
import { describe, expect, it, beforeAll, afterAll, inject } from "vitest";
import { createHash, createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  S3Client, CreateBucketCommand, PutBucketCorsCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand, CreateMultipartUploadCommand,
  UploadPartCommand, RestoreObjectCommand, CreateBucketCommand as CreateBucket, type CORSRule,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createPresignedPost, type PresignedPost } from "@aws-sdk/s3-presigned-post";
import { chromium, type Browser } from "playwright-core";
import { admin, advance, api, spawn, uniqueId, s3Setup, s3Of, s3Failure, type Run } from "./helpers.ts";

const bucketName = () => uniqueId("b").toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 60);
const md5 = (b: Uint8Array | string) => createHash("md5").update(b).digest("hex");

const failure = s3Failure;

/** `<Code>` and `<Message>` of an S3 XML error body. */
const errorOf = (xml: string) => ({ code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(xml)?.[1]?.replace(/&#34;/g, '"').replace(/&quot;/g, '"') });

/** A presigned POST's form, as a browser would send it: the fields, then the file last. */
function formOf(post: PresignedPost, file: Uint8Array | string, filename = "photo.png", override: Record<string, string | null> = {}): FormData {
  const form = new FormData();
  const fields: Record<string, string | null> = { ...post.fields, ...override };
  for (const [k, v] of Object.entries(fields)) if (v !== null) form.append(k, v);
  form.append("file", new Blob([file]), filename);
  return form;
}

const ORIGIN = "http://app.molar.test";
const RULES: CORSRule[] = [
  { AllowedOrigins: [ORIGIN, "http://127.0.0.1:*"], AllowedMethods: ["GET", "PUT", "POST"], AllowedHeaders: ["content-type", "x-amz-*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 600 },
  { AllowedOrigins: ["*"], AllowedMethods: ["GET"] },
];

describe("S3 clone: CORS preflight and presigned POST", () => {
  let run: Run;
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => {
    ({ run, s3, bucket } = await s3Setup(s3Of, bucketName()));
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: RULES } }));
  });

  it("answers a preflight of a presigned PUT from the bucket's first matching CORS rule", async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "up/a.txt" }), { expiresIn: 300 });
    const ok = await fetch(url, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "PUT", "access-control-request-headers": "Content-Type,X-Amz-Meta-Kind" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(ok.headers.get("access-control-allow-methods")).toBe("GET, PUT, POST");
    expect(ok.headers.get("access-control-allow-headers")).toBe("content-type, x-amz-meta-kind");
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    expect(ok.headers.get("access-control-max-age")).toBe("600");
    expect(ok.headers.get("access-control-expose-headers")).toBe("ETag");
    expect(ok.headers.get("vary")).toBe("Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    expect(await ok.text()).toBe("");

    // The wildcard rule allows any origin to GET, and answers `*` without credentials.
    const any = await fetch(url, { method: "OPTIONS", headers: { origin: "https://else.example", "access-control-request-method": "GET" } });
    expect(any.status).toBe(200);
    expect(any.headers.get("access-control-allow-origin")).toBe("*");
    expect(any.headers.get("access-control-allow-credentials")).toBeNull();

    // A header no rule allows, or a method the matching origin may not use: S3's CORSResponse.
    for (const h of <Record<string, string>[]>[
      { origin: ORIGIN, "access-control-request-method": "PUT", "access-control-request-headers": "authorization" },
      { origin: "https://else.example", "access-control-request-method": "PUT" },
      { origin: ORIGIN, "access-control-request-method": "DELETE" },
    ]) {
      const no = await fetch(url, { method: "OPTIONS", headers: h });
      expect(no.status).toBe(403);
      const body = await no.text();
      expect(errorOf(body)).toEqual({ code: "AccessForbidden", message: expect.stringMatching(/^CORSResponse: This CORS request is not allowed/) });
      expect(body).toContain(`<Method>${h["access-control-request-method"]}</Method><ResourceType>OBJECT</ResourceType>`);
      expect(no.headers.get("access-control-allow-origin")).toBeNull();
    }

    const noOrigin = await fetch(url, { method: "OPTIONS", headers: { "access-control-request-method": "PUT" } });
    expect(noOrigin.status).toBe(400);
    expect(errorOf(await noOrigin.text())).toEqual({ code: "BadRequest", message: "Insufficient information. Origin request header needed." });
  });

  it("refuses preflights for buckets without CORS or that do not exist", async () => {
    const plain = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    const preflight = async (b: string) => {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: b, Key: "k" }), { expiresIn: 300 });
      const res = await fetch(url, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "PUT" } });
      return { status: res.status, ...errorOf(await res.text()) };
    };
    expect(await preflight(plain)).toEqual({ status: 403, code: "AccessForbidden", message: "CORSResponse: CORS is not enabled for this bucket." });
    expect(await preflight(bucketName())).toEqual({ status: 403, code: "AccessForbidden", message: "CORSResponse: Bucket not found" });
  });

  it("answers a preflight that carries no credential from the runs whose bucket of that name has CORS rules", async () => {
    // The SDK in a page signs headers, which its preflight does not carry: nothing names the run.
    const bare = (b: string, origin: string) => fetch(`${run.clones.s3.url}/${b}/k?x-id=PutObject`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "PUT", "access-control-request-headers": "x-amz-date,x-amz-content-sha256" } });
    const mine = await bare(bucket, ORIGIN);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const nobody = await bare(bucketName(), ORIGIN);
    expect(nobody.status).toBe(403);
    expect(errorOf(await nobody.text()).code).toBe("AccessForbidden");
    // Another run with a bucket of the same name answers for the origin its own rules allow.
    const other = await spawn({ kinds: ["s3"] });
    const otherS3 = s3Of(other);
    await otherS3.send(new CreateBucketCommand({ Bucket: bucket }));
    await otherS3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["http://other.test"], AllowedMethods: ["PUT"], AllowedHeaders: ["*"] }] } }));
    expect((await bare(bucket, "http://other.test")).headers.get("access-control-allow-origin")).toBe("http://other.test");
    expect((await bare(bucket, ORIGIN)).headers.get("access-control-allow-origin")).toBe(ORIGIN);
    // Once that run is torn down, its rules answer no more.
    expect((await api("DELETE", `/v1/runs/${other.runId}`, inject("orgKey"))).status).toBeLessThan(300);
    const gone = await bare(bucket, "http://other.test");
    expect(gone.status).toBe(403);
    expect(errorOf(await gone.text())).toEqual({ code: "AccessForbidden", message: expect.stringMatching(/^CORSResponse: This CORS request is not allowed/) });
  });

  it("adds CORS headers to actual responses, errors included", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c.txt", Body: "cors" }));
    const get = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "c.txt" }), { expiresIn: 300 }), { headers: { origin: ORIGIN } });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(get.headers.get("access-control-expose-headers")).toBe("ETag");
    expect(await get.text()).toBe("cors");
    const missing = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "nope" }), { expiresIn: 300 }), { headers: { origin: ORIGIN } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(errorOf(await missing.text()).code).toBe("NoSuchKey");
  });

  it("stores a presigned POST upload: 204 with ETag and Location, fields become metadata, ${filename} names the key", async () => {
    const post = await createPresignedPost(s3, {
      Bucket: bucket,
      Key: "uploads/${filename}",
      Conditions: [["content-length-range", 1, 1024 * 1024], ["starts-with", "$Content-Type", "image/"]],
      Fields: { "Content-Type": "image/png", "x-amz-meta-owner": "u1" },
      Expires: 600,
    });
    expect(post.url).toBe(`${run.clones.s3.url}/${bucket}`);
    const res = await fetch(post.url, { method: "POST", body: formOf(post, "PNGDATA", "cat.png"), headers: { origin: ORIGIN } });
    expect(res.status).toBe(204);
    expect(res.headers.get("etag")).toBe(`"${md5("PNGDATA")}"`);
    expect(res.headers.get("location")).toBe(`${run.clones.s3.url}/${bucket}/uploads/cat.png`);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const o = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "uploads/cat.png" }));
    expect(await o.Body!.transformToString()).toBe("PNGDATA");
    expect(o.ContentType).toBe("image/png");
    expect(o.Metadata).toEqual({ owner: "u1" });
  });

  it("answers success_action_status 201 with a PostResponse and success_action_redirect with a 303", async () => {
    const p201 = await createPresignedPost(s3, { Bucket: bucket, Key: "s201", Fields: { success_action_status: "201" } });
    const created = await fetch(p201.url, { method: "POST", body: formOf(p201, "x") });
    expect(created.status).toBe(201);
    const xml = await created.text();
    expect(xml).toContain(`<Bucket>${bucket}</Bucket>`);
    expect(xml).toContain("<Key>s201</Key>");
    expect(xml).toContain(`<Location>${run.clones.s3.url}/${bucket}/s201</Location>`);

    const back = "https://app.molar.test/done?from=upload";
    const pr = await createPresignedPost(s3, { Bucket: bucket, Key: "redir", Fields: { success_action_redirect: back } });
    const redirected = await fetch(pr.url, { method: "POST", body: formOf(pr, "y"), redirect: "manual" });
    expect(redirected.status).toBe(303);
    const to = new URL(redirected.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe("https://app.molar.test/done");
    expect(Object.fromEntries(to.searchParams)).toEqual({ from: "upload", bucket, key: "redir", etag: `"${md5("y")}"` });
  });

  it("refuses what the policy does not allow, as S3 does", async () => {
    const post = await createPresignedPost(s3, { Bucket: bucket, Key: "in/${filename}", Conditions: [["content-length-range", 2, 16], ["eq", "$Content-Type", "text/plain"]], Fields: { "Content-Type": "text/plain" } });
    const send = async (form: FormData) => {
      const res = await fetch(post.url, { method: "POST", body: form });
      return { status: res.status, ...errorOf(await res.text()) };
    };
    expect(await send(formOf(post, "x".repeat(17)))).toMatchObject({ status: 400, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size" });
    expect(await send(formOf(post, "x"))).toMatchObject({ status: 400, code: "EntityTooSmall" });
    expect(await send(formOf(post, "ok", "f", { key: "out/f" }))).toEqual({ status: 403, code: "AccessDenied", message: 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "in/"]' });
    expect(await send(formOf(post, "ok", "f", { "Content-Type": "text/html" }))).toEqual({ status: 403, code: "AccessDenied", message: 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "text/plain"]' });
    expect(await send(formOf(post, "ok", "f", { "x-amz-meta-extra": "1" }))).toEqual({ status: 403, code: "AccessDenied", message: "Invalid according to Policy: Extra input fields: x-amz-meta-extra" });
    const sig = post.fields["X-Amz-Signature"];
    expect(await send(formOf(post, "ok", "f", { "X-Amz-Signature": sig.replace(/^./, sig[0] === "0" ? "1" : "0") }))).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
    expect(await send(formOf(post, "ok", "f", { Policy: null, "X-Amz-Signature": null }))).toMatchObject({ status: 403, code: "AccessDenied", message: "Access Denied" });
    expect(await send(formOf(post, "ok", "f", { key: null }))).toMatchObject({ status: 400, code: "InvalidArgument" });
    const noFile = new FormData();
    for (const [k, v] of Object.entries(post.fields)) noFile.append(k, v);
    expect(await send(noFile)).toMatchObject({ status: 400, code: "InvalidArgument", message: "POST requires exactly one file upload per request." });
    expect(await send(formOf(post, "fine", "ok.txt"))).toMatchObject({ status: 204 });
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "in/ok.txt" }))).Body!.transformToString()).toBe("fine");
  });

  it("checks hand-written policies as S3 does: SigV2 forms, the expiration's format, malformed conditions, a missing signature", async () => {
    const { accessKeyId, secretAccessKey } = run.clones.s3;
    const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
    /** A form signed by hand: SigV4 (as the SDK signs) or SigV2 (as ceph s3-tests signs). */
    const form = (doc: unknown, fields: Record<string, string>, v2 = false, file = "bar") => {
      const policy = Buffer.from(JSON.stringify(doc)).toString("base64");
      const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) f.append(k, v);
      if (v2) {
        f.append("AWSAccessKeyId", accessKeyId);
        f.append("policy", policy);
        f.append("signature", createHmac("sha1", secretAccessKey).update(policy).digest("base64"));
      } else {
        let key = hmac(`AWS4${secretAccessKey}`, date.slice(0, 8));
        for (const part of ["us-east-1", "s3", "aws4_request"]) key = hmac(key, part);
        f.append("x-amz-algorithm", "AWS4-HMAC-SHA256");
        f.append("x-amz-credential", `${accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`);
        f.append("x-amz-date", date);
        f.append("policy", policy);
        f.append("x-amz-signature", hmac(key, policy).toString("hex"));
      }
      f.append("file", new Blob([file]), "file");
      return f;
    };
    const expiration = new Date(Date.now() + 600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const send = async (f: FormData) => {
      const res = await fetch(`${run.clones.s3.url}/${bucket}`, { method: "POST", body: f });
      return { status: res.status, ...errorOf(await res.text()) };
    };
    // As s3-tests' authenticated request: SigV2, mixed-case operators and fields, an x-ignore- field.
    // (The one ACL a bucket with ACLs disabled, as every new bucket at S3 is, still accepts.)
    const v2 = { expiration, conditions: [{ bucket }, ["StArTs-WiTh", "$KeY", "foo"], { AcL: "bucket-owner-full-control" }, ["starts-with", "$Content-Type", "text/plain"], ["content-length-range", 0, 1024]] };
    expect(await send(form(v2, { kEy: "foo.txt", acl: "bucket-owner-full-control", "CONTENT-TYPE": "text/plain", "x-ignore-foo": "1" }, true))).toMatchObject({ status: 204 });
    const publicRead = { expiration, conditions: [{ bucket }, ["starts-with", "$key", "foo"], { acl: "public-read" }] };
    expect(await send(form(publicRead, { key: "foo.pub", acl: "public-read" }, true))).toMatchObject({ status: 400, code: "AccessControlListNotSupported" });
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "foo.txt" }))).Body!.transformToString()).toBe("bar");
    const sigless = form(v2, { key: "foo.txt", acl: "bucket-owner-full-control", "Content-Type": "text/plain" }, true);
    sigless.delete("signature");
    expect(await send(sigless)).toMatchObject({ status: 400, code: "InvalidArgument" });
    const v4 = (conditions: unknown[], exp: string = expiration) => form({ expiration: exp, conditions: [...conditions, ["starts-with", "$key", ""], ["starts-with", "$x-amz-algorithm", ""], ["starts-with", "$x-amz-credential", ""], ["starts-with", "$x-amz-date", ""]] }, { key: "hand" });
    expect(await send(v4([]))).toMatchObject({ status: 204 });
    expect(await send(v4([], new Date(Date.now() + 600_000).toUTCString()))).toMatchObject({ status: 400, code: "InvalidPolicyDocument" });
    expect(await send(v4([{}]))).toMatchObject({ status: 400, code: "InvalidPolicyDocument" });
    expect(await send(v4([["content-length-range", -1, 0]]))).toMatchObject({ status: 400, code: "InvalidPolicyDocument" });
    expect(await send(v4([["content-length-range", 0]]))).toMatchObject({ status: 400, code: "InvalidPolicyDocument" });
    expect(await send(form({ conditions: [] }, { key: "hand" }))).toEqual({ status: 400, code: "InvalidPolicyDocument", message: "Invalid Policy: Policy missing expiration." });
    expect(await send(form({ expiration, CONDITIONS: [] }, { key: "hand" }))).toMatchObject({ status: 400, code: "InvalidPolicyDocument" });
  });

  it("expires a POST policy on the run clock", async () => {
    // A run of its own: the advance would expire every policy signed after it in this one.
    const late = await spawn({ kinds: ["s3"] });
    const s3 = s3Of(late);
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const post = await createPresignedPost(s3, { Bucket: bucket, Key: "late", Expires: 3600 });
    await advance(late, "59m");
    expect((await fetch(post.url, { method: "POST", body: formOf(post, "in time") })).status).toBe(204);
    await advance(late, "2m");
    const res = await fetch(post.url, { method: "POST", body: formOf(post, "z") });
    expect(res.status).toBe(403);
    expect(errorOf(await res.text())).toEqual({ code: "AccessDenied", message: "Invalid according to Policy: Policy expired." });
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "late" }))).Body!.transformToString()).toBe("in time");
  });

  it("keeps runs apart: another run's policy reaches only that run, and another secret does not sign", async () => {
    const other = await spawn({ kinds: ["s3"] });
    const otherS3 = s3Of(other);
    const mine = await createPresignedPost(otherS3, { Bucket: bucket, Key: "intruder" });
    // The other run's key id routes the form to the other run, which has no such bucket.
    const res = await fetch(`${run.clones.s3.url}/${bucket}`, { method: "POST", body: formOf(mine, "x") });
    expect(res.status).toBe(404);
    expect(errorOf(await res.text()).code).toBe("NoSuchBucket");
    const forged = await createPresignedPost(new S3Client({ endpoint: run.clones.s3.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: run.clones.s3.accessKeyId, secretAccessKey: other.clones.s3.secretAccessKey } }), { Bucket: bucket, Key: "intruder" });
    const denied = await fetch(forged.url, { method: "POST", body: formOf(forged, "x") });
    expect(denied.status).toBe(403);
    expect(errorOf(await denied.text()).code).toBe("SignatureDoesNotMatch");
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "intruder" })))).toMatchObject({ status: 404 });
  });

  it("streams a large POST upload byte-exact", async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i++) big[i] = (i * 131 + (i >> 9)) & 0xff;
    const post = await createPresignedPost(s3, { Bucket: bucket, Key: "big.bin", Conditions: [["content-length-range", 0, 8 * 1024 * 1024]] });
    const res = await fetch(post.url, { method: "POST", body: formOf(post, big, "big.bin") });
    expect(res.status).toBe(204);
    expect(res.headers.get("etag")).toBe(`"${md5(big)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big.bin" }));
    expect(md5(await got.Body!.transformToByteArray())).toBe(md5(big));
    expect(got.ContentLength).toBe(big.length);
    const small = await createPresignedPost(s3, { Bucket: bucket, Key: "cap.bin", Conditions: [["content-length-range", 0, 1024 * 1024]] });
    const refused = await fetch(small.url, { method: "POST", body: formOf(small, big) });
    expect(refused.status).toBe(400);
    expect(errorOf(await refused.text()).code).toBe("EntityTooLarge");
  });
});

describe("S3 clone: chaos presets on particular operations", () => {
  let run: Run;
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => void ({ run, s3, bucket } = await s3Setup(s3Of, bucketName())));

  it("slow_put delays PutObject and UploadPart only, as many times as asked", async () => {
    expect((await admin(run, "POST", "/chaos/presets/s3/slow_put", { times: 2 })).status).toBe(201);
    // Neither a bucket nor a tagging PUT counts toward the preset.
    await s3.send(new CreateBucket({ Bucket: bucketName() }));
    let t = performance.now();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "a", Body: "a" }));
    expect(performance.now() - t).toBeGreaterThanOrEqual(1900);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "m" }));
    t = performance.now();
    await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "m", UploadId: up.UploadId, PartNumber: 1, Body: "p" }));
    expect(performance.now() - t).toBeGreaterThanOrEqual(1900);
    t = performance.now();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "b", Body: "b" }));
    expect(performance.now() - t).toBeLessThan(1500);
    const rules = (await admin(run, "GET", "/chaos/rules")).json.data as { preset: string; fired: number }[];
    expect(rules.find((r) => r.preset === "slow_put")?.fired).toBe(2);
  }, 30_000);

  it("503_restore answers SlowDown to RestoreObject and to reads of archived objects; RestoreObject is otherwise 501", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "cold", Body: "ice", StorageClass: "GLACIER" }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "warm", Body: "sun" }));
    const restore = () => s3.send(new RestoreObjectCommand({ Bucket: bucket, Key: "cold", RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: "Standard" } } }));
    expect(await failure(restore())).toMatchObject({ name: "NotImplemented", status: 501 });
    expect((await admin(run, "POST", "/chaos/presets/s3/503_restore", { times: 2 })).status).toBe(201);
    // A read of a STANDARD object is not archived: it does not fire.
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "warm" }))).Body!.transformToString()).toBe("sun");
    const noRetry = s3Of(run, { maxAttempts: 1 });
    expect(await failure(noRetry.send(new GetObjectCommand({ Bucket: bucket, Key: "cold" })))).toMatchObject({ name: "SlowDown", status: 503 });
    expect(await failure(noRetry.send(new RestoreObjectCommand({ Bucket: bucket, Key: "cold", RestoreRequest: { Days: 1 } })))).toMatchObject({ name: "SlowDown", status: 503 });
    // Used up: the archived object reads again (archive classes are stored, not enforced).
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "cold" }))).Body!.transformToString()).toBe("ice");
  });
});

const CHROMIUM = process.env.MOLAR_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`s3-browser.test: browser part skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set MOLAR_CHROMIUM)`);

describe.skipIf(!haveChromium)("S3 clone from a page on another origin, in Chromium", () => {
  let browser: Browser;
  let page: http.Server;
  let pageOrigin: string;
  let run: Run;
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => {
    ({ run, s3, bucket } = await s3Setup(s3Of, bucketName()));
    // The app's page: its own origin (another port), serving an empty document and a redirect target.
    page = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>${req.url?.startsWith("/done") ? "done" : "app"}</title><body></body>`);
    });
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
    pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [pageOrigin], AllowedMethods: ["PUT", "POST", "GET"], AllowedHeaders: ["*"], ExposeHeaders: ["ETag"] }] } }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    page?.close();
  });

  it("PUTs to a presigned URL through a preflight and uploads by form POST, fetch and a real form", async () => {
    const tab = await browser.newPage();
    await tab.goto(`${pageOrigin}/`);
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "from-browser.txt", ContentType: "text/plain" }), { expiresIn: 300 });
    const put = await tab.evaluate(async (url) => {
      const r = await fetch(url, { method: "PUT", body: "hello from chromium", headers: { "content-type": "text/plain" } });
      return { status: r.status, etag: r.headers.get("etag") };
    }, putUrl);
    expect(put).toEqual({ status: 200, etag: `"${md5("hello from chromium")}"` });
    const logged = (await admin(run, "GET", "/logs?kind=s3")).text.trim().split("\n").map((l) => JSON.parse(l) as { method: string; status: number; path: string });
    expect(logged.some((l) => l.method === "OPTIONS" && l.status === 200 && l.path === `/${bucket}/from-browser.txt`)).toBe(true);

    // fetch with FormData: the presigned POST's fields, then the file.
    const post = await createPresignedPost(s3, { Bucket: bucket, Key: "forms/${filename}", Conditions: [["content-length-range", 1, 1 << 20]] });
    const posted = await tab.evaluate(async ({ url, fields }) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append("file", new File(["form bytes"], "note.txt", { type: "text/plain" }));
      const r = await fetch(url, { method: "POST", body: form });
      return { status: r.status, etag: r.headers.get("etag") };
    }, post);
    expect(posted).toEqual({ status: 204, etag: `"${md5("form bytes")}"` });

    // A plain <form> submit with a file input, redirected back to the app.
    const done = `${pageOrigin}/done`;
    const formPost = await createPresignedPost(s3, { Bucket: bucket, Key: "real-form.txt", Fields: { success_action_redirect: done } });
    const inputs = Object.entries(formPost.fields).map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, "&quot;")}">`).join("");
    await tab.setContent(`<form method="POST" action="${formPost.url}" enctype="multipart/form-data">${inputs}<input type="file" name="file"><button>Upload</button></form>`);
    await tab.setInputFiles("input[type=file]", { name: "s.txt", mimeType: "text/plain", buffer: Buffer.from("submitted") });
    await tab.getByRole("button", { name: "Upload" }).click();
    await tab.waitForURL((u) => u.pathname === "/done");
    const back = new URL(tab.url());
    expect(back.searchParams.get("key")).toBe("real-form.txt");
    expect(back.searchParams.get("etag")).toBe(`"${md5("submitted")}"`);

    // A preflight from an origin the bucket does not allow fails in the browser.
    const other = await browser.newPage();
    await other.goto(`http://localhost:${new URL(pageOrigin).port}/`);
    const blocked = await other.evaluate(async (url) => {
      try {
        await fetch(url, { method: "PUT", body: "no" });
        return "sent";
      } catch (e) {
        return (e as Error).name;
      }
    }, putUrl);
    expect(blocked).toBe("TypeError");

    for (const [key, body] of [["from-browser.txt", "hello from chromium"], ["forms/note.txt", "form bytes"], ["real-form.txt", "submitted"]]) {
      expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()).toBe(body);
    }
    await tab.close();
    await other.close();
  }, 60_000);
});
