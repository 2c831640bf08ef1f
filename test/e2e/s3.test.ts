// The S3 clone through the official AWS SDK v3 (`@aws-sdk/client-s3`, `lib-storage`,
// `s3-request-presigner`), configured only by the run's endpoint, region and credentials.
import { describe, expect, it, beforeAll, inject } from "vitest";
import { createHash } from "node:crypto";
import net from "node:net";
import { Readable } from "node:stream";
import {
  S3Client, CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, DeleteBucketCommand, GetBucketLocationCommand,
  PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand, DeleteObjectsCommand, CopyObjectCommand,
  ListObjectsV2Command, ListObjectsCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand, ListPartsCommand, ListMultipartUploadsCommand, GetBucketVersioningCommand, paginateListObjectsV2,
  ListObjectVersionsCommand, GetObjectTaggingCommand, PutObjectTaggingCommand, DeleteObjectTaggingCommand, GetBucketTaggingCommand,
  PutBucketTaggingCommand, DeleteBucketTaggingCommand, GetBucketCorsCommand, PutBucketCorsCommand, DeleteBucketCorsCommand,
  GetObjectAttributesCommand, UploadPartCopyCommand, PutBucketPolicyCommand, GetObjectAclCommand, GetBucketAclCommand, PutObjectAclCommand,
  PutBucketAclCommand, GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand, DeleteBucketPolicyCommand, GetBucketReplicationCommand, GetBucketWebsiteCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { admin, advance, api, spawn, uniqueId, s3Setup, s3Of, s3Failure, type Run } from "./helpers.ts";


const failure = s3Failure;

const md5 = (b: Uint8Array | string) => createHash("md5").update(b).digest("hex");
const bytesOf = (n: number, seed = 1) => {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};
/**
 * Tests that upload 2 MiB or more: the SDK sends `Expect: 100-continue`, which the local workerd
 * listener never answers, so each such request waits the SDK's 6 s before sending its body.
 */
const BIG_UPLOAD_TIMEOUT = 90_000;
const bucketName = () => uniqueId("b").toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 60);

describe("S3 clone through @aws-sdk/client-s3", () => {
  let run: Run;
  let s3: S3Client;
  beforeAll(async () => {
    run = await spawn({ kinds: ["s3"] });
    s3 = s3Of(run);
  });

  it("creates, heads, lists and deletes buckets (LocationConstraint, BucketNotEmpty, NoSuchBucket)", async () => {
    const a = bucketName();
    const b = bucketName();
    const created = await s3.send(new CreateBucketCommand({ Bucket: a }));
    expect(created.Location).toBe(`/${a}`);
    await s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
    expect((await s3.send(new HeadBucketCommand({ Bucket: a }))).$metadata.httpStatusCode).toBe(200);
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: b }))).LocationConstraint).toBe("eu-west-1");
    expect((await s3.send(new GetBucketLocationCommand({ Bucket: a }))).LocationConstraint).toBeUndefined();
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((x) => x.Name)).toEqual(expect.arrayContaining([a, b]));
    expect(list.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    // us-east-1 keeps S3's legacy answer to re-creating your own bucket (200, nothing changes); other regions refuse.
    expect((await s3.send(new CreateBucketCommand({ Bucket: a }))).$metadata.httpStatusCode).toBe(200);
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } })))).toMatchObject({ name: "BucketAlreadyOwnedByYou", status: 409 });
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: "Bad_Name" })))).toMatchObject({ name: "InvalidBucketName", status: 400 });

    await s3.send(new PutObjectCommand({ Bucket: a, Key: "k", Body: "x" }));
    expect(await failure(s3.send(new DeleteBucketCommand({ Bucket: a })))).toMatchObject({ name: "BucketNotEmpty", status: 409 });
    await s3.send(new DeleteObjectCommand({ Bucket: a, Key: "k" }));
    expect((await s3.send(new DeleteBucketCommand({ Bucket: a }))).$metadata.httpStatusCode).toBe(204);
    expect(await failure(s3.send(new HeadBucketCommand({ Bucket: a })))).toMatchObject({ name: "NotFound", status: 404 });
    expect(await failure(s3.send(new ListObjectsV2Command({ Bucket: a })))).toMatchObject({ name: "NoSuchBucket", status: 404 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: a, Key: "k", Body: "x" })))).toMatchObject({ name: "NoSuchBucket", status: 404 });
  });

  it("puts, gets, heads and deletes objects with metadata, system headers and MD5 ETags", async () => {
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const body = "hello, world";
    const key = "dir/a b+c~é.txt";
    const put = await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: body, ContentType: "text/plain; charset=utf-8", CacheControl: "max-age=60",
      ContentDisposition: 'attachment; filename="a.txt"', ContentLanguage: "en", Metadata: { Owner: "alice", "x-trace": "42" },
    }));
    expect(put.ETag).toBe(`"${md5(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe(body);
    expect(got).toMatchObject({
      ETag: `"${md5(body)}"`, ContentType: "text/plain; charset=utf-8", CacheControl: "max-age=60", ContentDisposition: 'attachment; filename="a.txt"',
      ContentLanguage: "en", ContentLength: body.length, Metadata: { owner: "alice", "x-trace": "42" },
    });
    expect(got.LastModified).toBeInstanceOf(Date);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head).toMatchObject({ ETag: `"${md5(body)}"`, ContentLength: body.length, ContentType: "text/plain; charset=utf-8", Metadata: { owner: "alice", "x-trace": "42" }, ServerSideEncryption: "AES256" });
    expect(head.$metadata.requestId).toMatch(/^[0-9A-F]{16}$/);

    const empty = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "empty", Body: "" }));
    expect(empty.ETag).toBe(`"${md5("")}"`);
    const e = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "empty" }));
    expect(e.ContentLength).toBe(0);
    expect((await e.Body!.transformToByteArray()).length).toBe(0);

    const binary = bytesOf(300_000, 7);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "bin", Body: binary }));
    const bin = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "bin" }))).Body!.transformToByteArray());
    expect(bin.equals(binary)).toBe(true);

    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "missing" })))).toMatchObject({ name: "NoSuchKey", status: 404 });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "missing" })))).toMatchObject({ name: "NotFound", status: 404 });
    expect((await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))).$metadata.httpStatusCode).toBe(204);
    expect((await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))).$metadata.httpStatusCode).toBe(204);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })))).toMatchObject({ name: "NoSuchKey" });
  });

  it("serves Range GETs (206, suffix and open ranges) and answers InvalidRange with 416", async () => {
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const data = bytesOf(10_000, 3);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "r", Body: data }));
    const part = async (Range: string) => {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "r", Range }));
      return { status: r.$metadata.httpStatusCode, range: r.ContentRange, length: r.ContentLength, bytes: Buffer.from(await r.Body!.transformToByteArray()) };
    };
    expect(await part("bytes=0-9")).toMatchObject({ status: 206, range: "bytes 0-9/10000", length: 10, bytes: data.subarray(0, 10) });
    expect(await part("bytes=9990-")).toMatchObject({ status: 206, range: "bytes 9990-9999/10000", bytes: data.subarray(9990) });
    expect(await part("bytes=-100")).toMatchObject({ status: 206, range: "bytes 9900-9999/10000", bytes: data.subarray(9900) });
    expect(await part("bytes=5000-99999")).toMatchObject({ status: 206, range: "bytes 5000-9999/10000", length: 5000, bytes: data.subarray(5000) });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "r", Range: "bytes=10000-" })))).toMatchObject({ name: "InvalidRange", status: 416 });
  });

  it("honours If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since (304/412) and conditional writes", async () => {
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c", Body: "v1" }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "c" }));
    const lm = head.LastModified!;
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", IfMatch: ETag }))).$metadata.httpStatusCode).toBe(200);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", IfMatch: '"nope"' })))).toMatchObject({ name: "PreconditionFailed", status: 412 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", IfNoneMatch: ETag })))).toMatchObject({ status: 304 });
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", IfNoneMatch: '"other"' }))).$metadata.httpStatusCode).toBe(200);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", IfModifiedSince: lm })))).toMatchObject({ status: 304 });
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", IfModifiedSince: new Date(lm.getTime() - 60_000) }))).$metadata.httpStatusCode).toBe(200);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c", IfUnmodifiedSince: new Date(lm.getTime() - 60_000) })))).toMatchObject({ status: 412 });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "c", IfMatch: '"nope"' })))).toMatchObject({ status: 412 });

    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c", Body: "v2", IfNoneMatch: "*" })))).toMatchObject({ name: "PreconditionFailed", status: 412 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c", Body: "v2", IfMatch: '"nope"' })))).toMatchObject({ status: 412 });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "c", Body: "v2", IfMatch: ETag }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "new", Body: "n", IfNoneMatch: "*" }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "c" }))).Body!.transformToString()).toBe("v2");
  });

  it("copies objects with the COPY and REPLACE metadata directives", async () => {
    const bucket = bucketName();
    const other = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: other }));
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "src key+1", Body: "copy me", ContentType: "text/x-src", Metadata: { a: "1" } }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: other, Key: "dst", CopySource: `${bucket}/${encodeURIComponent("src key+1")}` }));
    expect(copied.CopyObjectResult?.ETag).toBe(ETag);
    expect(copied.CopyObjectResult?.LastModified).toBeInstanceOf(Date);
    const d = await s3.send(new GetObjectCommand({ Bucket: other, Key: "dst" }));
    expect(await d.Body!.transformToString()).toBe("copy me");
    expect(d).toMatchObject({ ContentType: "text/x-src", Metadata: { a: "1" } });

    await s3.send(new CopyObjectCommand({ Bucket: other, Key: "dst2", CopySource: `/${bucket}/src%20key%2B1`, MetadataDirective: "REPLACE", ContentType: "text/x-new", Metadata: { b: "2" } }));
    const d2 = await s3.send(new HeadObjectCommand({ Bucket: other, Key: "dst2" }));
    expect(d2).toMatchObject({ ContentType: "text/x-new", Metadata: { b: "2" }, ETag });

    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "src key+1", CopySource: `${bucket}/src%20key%2B1` })))).toMatchObject({ name: "InvalidRequest", status: 400 });
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "src key+1", CopySource: `${bucket}/src%20key%2B1`, MetadataDirective: "REPLACE", Metadata: { c: "3" } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "src key+1" }))).Metadata).toEqual({ c: "3" });
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: other, Key: "x", CopySource: `${bucket}/missing` })))).toMatchObject({ name: "NoSuchKey", status: 404 });
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: other, Key: "x", CopySource: `${bucket}/src%20key%2B1`, CopySourceIfMatch: '"nope"' })))).toMatchObject({ name: "PreconditionFailed", status: 412 });
  });

  it("deletes many objects with DeleteObjects (Deleted, Quiet)", async () => {
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of ["a", "b", "c/d"]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "a" }, { Key: "c/d" }, { Key: "never" }] } }));
    expect(res.Deleted?.map((d) => d.Key).sort()).toEqual(["a", "c/d", "never"]);
    expect(res.Errors ?? []).toEqual([]);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "b" }], Quiet: true } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
  });

  it("deletes whitespace-only keys by DeleteObjects exactly as named", async () => {
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of [" ", "_ ", "_"]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "x" }));
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: " " }, { Key: "_ " }] } }));
    expect(res.Deleted?.map((d) => d.Key).sort()).toEqual([" ", "_ "]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(left.Contents?.map((o) => o.Key)).toEqual(["_"]);
  });

  it("lists with ListObjectsV2: prefix, delimiter, start-after, max-keys, continuation visiting every key once, encoding-type=url", async () => {
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const keys = ["a/1", "a/2", "a/b/3", "b", "c/x", "c/y", "d e+f", "z"];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));

    const all = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(all.Contents?.map((o) => o.Key)).toEqual([...keys].sort());
    expect(all).toMatchObject({ KeyCount: keys.length, IsTruncated: false, MaxKeys: 1000, Name: bucket });
    expect(all.Contents?.[0]).toMatchObject({ ETag: `"${md5("a/1")}"`, Size: 3, StorageClass: "STANDARD" });

    const delim = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }));
    expect(delim.Contents?.map((o) => o.Key)).toEqual(["b", "d e+f", "z"]);
    expect(delim.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["a/", "c/"]);
    expect(delim.KeyCount).toBe(5);

    const sub = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "a/", Delimiter: "/" }));
    expect(sub.Contents?.map((o) => o.Key)).toEqual(["a/1", "a/2"]);
    expect(sub.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["a/b/"]);

    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket, StartAfter: "b" }));
    expect(after.Contents?.map((o) => o.Key)).toEqual(["c/x", "c/y", "d e+f", "z"]);
    expect(after.StartAfter).toBe("b");

    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 3 }, { Bucket: bucket })) {
      pages++;
      expect(page.KeyCount).toBeLessThanOrEqual(3);
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
    }
    expect(seen).toEqual([...keys].sort());
    expect(pages).toBe(3);

    // Pages of a delimited listing: each common prefix once, never its keys.
    const items: string[] = [];
    let token: string | undefined;
    do {
      const p = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/", MaxKeys: 1, ContinuationToken: token }));
      items.push(...(p.Contents ?? []).map((o) => o.Key!), ...(p.CommonPrefixes ?? []).map((c) => c.Prefix!));
      token = p.NextContinuationToken;
      expect(Boolean(token)).toBe(p.IsTruncated);
    } while (token);
    expect(items).toEqual(["a/", "b", "c/", "d e+f", "z"]);

    const encoded = await s3.send(new ListObjectsV2Command({ Bucket: bucket, EncodingType: "url", Prefix: "d" }));
    expect(encoded.EncodingType).toBe("url");
    expect(encoded.Contents?.map((o) => o.Key)).toEqual(["d%20e%2Bf"]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }))).KeyCount).toBe(0);
  });

  it("lists with ListObjects v1: marker, NextMarker, delimiter", async () => {
    const bucket = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of ["x/1", "x/2", "y", "z"]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "v" }));
    const p1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: "/", MaxKeys: 2 }));
    expect(p1.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["x/"]);
    expect(p1.Contents?.map((o) => o.Key)).toEqual(["y"]);
    expect(p1).toMatchObject({ IsTruncated: true, NextMarker: "y" });
    const p2 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Delimiter: "/", Marker: p1.NextMarker }));
    expect(p2.Contents?.map((o) => o.Key)).toEqual(["z"]);
    expect(p2.IsTruncated).toBe(false);
    const owner = (await s3.send(new ListObjectsCommand({ Bucket: bucket }))).Contents?.[0].Owner;
    expect(owner?.ID).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("S3 clone: SigV4, streamed bodies and presigned URLs", () => {
  let run: Run;
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => void ({ run, s3, bucket } = await s3Setup(s3Of, bucketName())));

  it("answers Expect: 100-continue on the S3 port and keeps a connection's requests framed (Content-Length, chunked)", async () => {
    const put = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "wire" }), { expiresIn: 900 }));
    const get = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "wire" }), { expiresIn: 900 }));
    const sock = net.connect({ host: put.hostname, port: Number(put.port) });
    let got = "";
    sock.on("data", (d: Buffer) => void (got += d.toString("latin1")));
    const waitFor = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (re.test(got) ? (sock.off("data", check), resolve()) : undefined);
        sock.on("data", check);
        sock.once("error", reject);
        check();
      });
    await new Promise<void>((r) => sock.once("connect", () => r()));
    sock.write(`PUT ${put.pathname}${put.search} HTTP/1.1\r\nHost: ${put.host}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    await waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    sock.write("hello");
    await waitFor(/HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n/);
    // A chunked body (S3 wants a length: 411), then a GET on the same connection: both answered, in order.
    got = "";
    sock.write(`PUT ${put.pathname}${put.search} HTTP/1.1\r\nHost: ${put.host}\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n`);
    sock.write(`GET ${get.pathname}${get.search} HTTP/1.1\r\nHost: ${get.host}\r\n\r\n`);
    await waitFor(/^HTTP\/1\.1 411 [\s\S]*HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nhello$/);
    // A large body on the same client connection (the relay gives it a fresh workerd connection), then a GET.
    got = "";
    const big = bytesOf(1536 * 1024, 5);
    sock.write(`PUT ${put.pathname}${put.search} HTTP/1.1\r\nHost: ${put.host}\r\nContent-Length: ${big.length}\r\n\r\n`);
    sock.write(big);
    await waitFor(new RegExp(`^HTTP/1\\.1 200 OK[\\s\\S]*ETag: "${md5(big)}"[\\s\\S]*\r\n\r\n$`));
    got = "";
    sock.write(`GET ${get.pathname}${get.search} HTTP/1.1\r\nHost: ${get.host}\r\nRange: bytes=0-3\r\n\r\n`);
    await waitFor(/^HTTP\/1\.1 206 [\s\S]*\r\n\r\n[\s\S]{4}$/);
    expect(got.slice(-4)).toBe(big.subarray(0, 4).toString("latin1"));
    sock.destroy();
  });

  it("refuses a wrong secret (SignatureDoesNotMatch), an unknown key (InvalidAccessKeyId) and no credentials (AccessDenied)", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "secret", Body: "s" }));
    const wrong = s3Of(run, { secretAccessKey: "not-the-secret-0123456789" });
    expect(await failure(wrong.send(new GetObjectCommand({ Bucket: bucket, Key: "secret" })))).toMatchObject({ name: "SignatureDoesNotMatch", status: 403 });
    expect(await failure(wrong.send(new HeadObjectCommand({ Bucket: bucket, Key: "secret" })))).toMatchObject({ status: 403 });
    expect(await failure(wrong.send(new PutObjectCommand({ Bucket: bucket, Key: "secret", Body: "changed" })))).toMatchObject({ name: "SignatureDoesNotMatch", status: 403 });
    expect(await failure(wrong.send(new ListBucketsCommand({})))).toMatchObject({ name: "SignatureDoesNotMatch", status: 403 });
    const other = await spawn({ kinds: ["s3"] });
    const mixed = s3Of(run, { accessKeyId: other.clones.s3.accessKeyId });
    expect(await failure(mixed.send(new ListBucketsCommand({})))).toMatchObject({ status: 403 });
    const unknown = s3Of(run, { secretAccessKey: "x", accessKeyId: "AKIAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" });
    expect(await failure(unknown.send(new ListBucketsCommand({})))).toMatchObject({ name: "InvalidAccessKeyId", status: 403 });
    const anon = await fetch(`${run.clones.s3.url}/${bucket}/secret`);
    expect(anon.status).toBe(403);
    expect(await anon.text()).toContain("<Code>AccessDenied</Code>");
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "secret" }))).Body!.transformToString()).toBe("s");
  });

  it("refuses a body that does not match its signed x-amz-content-sha256 or its declared CRC32", async () => {
    const url = `${run.clones.s3.url}/${bucket}/tampered`;
    // A CRC32 the body does not have: S3's BadDigest.
    const bad = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "crc", Body: "abc", ChecksumCRC32: "AAAAAA==" })).catch((e) => e);
    expect(bad).toMatchObject({ name: "BadDigest", $metadata: { httpStatusCode: 400 } });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "crc" })))).toMatchObject({ status: 404 });
    const res = await fetch(url, { method: "PUT", body: "x" });
    expect(res.status).toBe(403);
  });

  it("verifies the SDK's other flexible checksums (CRC32C, SHA1, SHA256), buffered and streamed", async () => {
    const data = bytesOf(200_000, 61);
    for (const ChecksumAlgorithm of ["CRC32C", "SHA1", "SHA256"] as const) {
      const buffered = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sum-${ChecksumAlgorithm}`, Body: data, ChecksumAlgorithm }));
      const streamed = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `sum-s-${ChecksumAlgorithm}`, Body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]), ContentLength: data.length, ChecksumAlgorithm }));
      const field = `Checksum${ChecksumAlgorithm}` as const;
      expect(buffered[field]).toBeTruthy();
      expect(streamed[field]).toBe(buffered[field]);
      expect(buffered.ETag).toBe(`"${md5(data)}"`);
    }
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "sum-bad", Body: "abc", ChecksumSHA256: createHash("sha256").update("abd").digest("base64") }))))
      .toMatchObject({ name: "BadDigest", status: 400 });
  });

  it("stores 20 MiB streamed with the SDK's default checksums (aws-chunked, trailing CRC32) byte-exact", async () => {
    const data = bytesOf(20 * 1024 * 1024 + 123, 11);
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "stream.bin", Body: Readable.from(chunks), ContentLength: data.length, ContentType: "application/x-test" }));
    expect(put.ETag).toBe(`"${md5(data)}"`);
    expect(put.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "stream.bin" }));
    expect(got.ContentLength).toBe(data.length);
    expect(got.ContentType).toBe("application/x-test");
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    const small = await new Upload({ client: s3, params: { Bucket: bucket, Key: "lib-small", Body: Readable.from([data.subarray(0, 1000)]) } }).done();
    expect(small.ETag).toBe(`"${md5(data.subarray(0, 1000))}"`);
  }, BIG_UPLOAD_TIMEOUT);

  it("accepts aws-chunked bodies with signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and refuses a forged chunk", async () => {
    const { SignatureV4 } = await import("@smithy/signature-v4");
    const { Sha256 } = await import("@aws-crypto/sha256-js");
    const { createHmac } = await import("node:crypto");
    const creds = { accessKeyId: run.clones.s3.accessKeyId, secretAccessKey: run.clones.s3.secretAccessKey };
    const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
    const hmac = (key: Buffer | string, text: string) => createHmac("sha256", key).update(text).digest();
    const put = async (key: string, data: Buffer, forge = false) => {
      const url = new URL(`${run.clones.s3.url}/${bucket}/${key}`);
      const chunks = [data.subarray(0, 65536), data.subarray(65536)];
      const encodedLength = chunks.reduce((n, c) => n + c.length.toString(16).length + 17 + 64 + 4 + c.length, 0) + 1 + 17 + 64 + 4;
      const signer = new SignatureV4({ credentials: creds, region: "us-east-1", service: "s3", sha256: Sha256, uriEscapePath: false });
      const signed = await signer.sign({
        method: "PUT", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {},
        headers: {
          host: url.host, "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "content-encoding": "aws-chunked",
          "x-amz-decoded-content-length": String(data.length), "content-length": String(encodedLength),
        },
      });
      const amzDate = signed.headers["x-amz-date"];
      const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
      let kSigning = hmac(`AWS4${creds.secretAccessKey}`, amzDate.slice(0, 8));
      for (const part of ["us-east-1", "s3", "aws4_request"]) kSigning = hmac(kSigning, part);
      let prev = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)![1];
      const parts: Buffer[] = [];
      for (const c of [...chunks, Buffer.alloc(0)]) {
        let sig = hmac(kSigning, `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${prev}\n${sha("")}\n${sha(c)}`).toString("hex");
        if (forge && c.length) sig = sig.replace(/^./, (x) => (x === "0" ? "1" : "0"));
        parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c, Buffer.from("\r\n"));
        prev = sig;
      }
      const body = Buffer.concat(parts);
      expect(body.length).toBe(encodedLength);
      const { host: _host, ...headers } = signed.headers;
      return fetch(url, { method: "PUT", headers, body });
    };
    const data = bytesOf(100_000, 51);
    const ok = await put("signed-chunks", data);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).toBe(`"${md5(data)}"`);
    expect(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "signed-chunks" }))).Body!.transformToByteArray()).equals(data)).toBe(true);
    const forged = await put("forged-chunks", data, true);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "forged-chunks" })))).toMatchObject({ status: 404 });
  });

  it("keeps each run's buckets to itself", async () => {
    const other = s3Of(await spawn({ kinds: ["s3"] }));
    expect(await failure(other.send(new HeadBucketCommand({ Bucket: bucket })))).toMatchObject({ status: 404 });
    expect((await other.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    await other.send(new CreateBucketCommand({ Bucket: bucket }));
    expect((await other.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
  });

  it("serves presigned GET and PUT URLs that work, then expire on the run clock (AccessDenied)", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "pre", Body: "presigned body" }));
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "pre" }), { expiresIn: 900 });
    const ok = await fetch(getUrl);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("presigned body");
    const download = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "pre", ResponseContentDisposition: 'attachment; filename="pre.txt"', ResponseContentType: "text/x-pre" }), { expiresIn: 900 });
    const d = await fetch(download);
    expect(d.headers.get("content-disposition")).toBe('attachment; filename="pre.txt"');
    expect(d.headers.get("content-type")).toBe("text/x-pre");

    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "uploaded", ContentType: "text/plain" }), { expiresIn: 900 });
    const put = await fetch(putUrl, { method: "PUT", body: "via presigned put", headers: { "content-type": "text/plain" } });
    expect(put.status).toBe(200);
    expect(put.headers.get("etag")).toBe(`"${md5("via presigned put")}"`);
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "uploaded" }))).Body!.transformToString()).toBe("via presigned put");

    // A presigned URL's own parameters are not sub-resources: these are ListBuckets and ListObjectsV2.
    const buckets = await fetch(await getSignedUrl(s3, new ListBucketsCommand({}), { expiresIn: 900 }));
    expect(buckets.status).toBe(200);
    expect(await buckets.text()).toContain(`<Name>${bucket}</Name>`);
    const listed = await fetch(await getSignedUrl(s3, new ListObjectsV2Command({ Bucket: bucket, Prefix: "upl" }), { expiresIn: 900 }));
    expect(listed.status).toBe(200);
    expect(await listed.text()).toMatch(/<KeyCount>1<\/KeyCount>[\s\S]*<Key>uploaded<\/Key>/);

    const tampered = new URL(getUrl);
    tampered.pathname = `/${bucket}/uploaded`;
    const t = await fetch(tampered);
    expect(t.status).toBe(403);
    expect(await t.text()).toContain("<Code>SignatureDoesNotMatch</Code>");

    await advance(run, "1h");
    const expired = await fetch(getUrl);
    expect(expired.status).toBe(403);
    const text = await expired.text();
    expect(text).toContain("<Code>AccessDenied</Code>");
    expect(text).toContain("<Message>Request has expired</Message>");
    expect((await fetch(putUrl, { method: "PUT", body: "late" })).status).toBe(403);
    // Header-signed requests are unaffected by the advance.
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "pre" }))).ContentLength).toBe(14);
  });
});

describe("S3 clone: multipart uploads", () => {
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => {
    ({ s3, bucket } = await s3Setup(s3Of, bucketName()));
  });

  it("creates, uploads parts, lists parts and uploads, completes with the md5-of-md5s ETag, aborts", async () => {
    const p1 = bytesOf(5 * 1024 * 1024, 21);
    const p2 = bytesOf(1234, 22);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "big", ContentType: "application/x-big", Metadata: { m: "1" } }));
    expect(UploadId).toBeTruthy();
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "big", UploadId, PartNumber: 1, Body: p1 }))).ETag!;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "big", UploadId, PartNumber: 2, Body: p2 }))).ETag!;
    expect(e1).toBe(`"${md5(p1)}"`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: "big", UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([[1, e1, p1.length], [2, e2, p2.length]]);
    const paged = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: "big", UploadId, MaxParts: 1 }));
    expect(paged).toMatchObject({ IsTruncated: true, NextPartNumberMarker: "1" });
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([["big", UploadId]]);

    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "big", UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: e2 }, { PartNumber: 1, ETag: e1 }] } }))))
      .toMatchObject({ name: "InvalidPartOrder", status: 400 });
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "big", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] } }))))
      .toMatchObject({ name: "InvalidPart", status: 400 });
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "big", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
    const want = `"${md5(Buffer.concat([Buffer.from(md5(p1), "hex"), Buffer.from(md5(p2), "hex")]))}-2"`;
    expect(done.ETag).toBe(want);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big" }));
    expect(got).toMatchObject({ ETag: want, ContentLength: p1.length + p2.length, ContentType: "application/x-big", Metadata: { m: "1" } });
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([p1, p2]))).toBe(true);
    // A range across the parts' boundary.
    const across = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big", Range: `bytes=${p1.length - 10}-${p1.length + 9}` }));
    expect(Buffer.from(await across.Body!.transformToByteArray()).equals(Buffer.concat([p1, p2]).subarray(p1.length - 10, p1.length + 10))).toBe(true);
    expect(await failure(s3.send(new ListPartsCommand({ Bucket: bucket, Key: "big", UploadId })))).toMatchObject({ name: "NoSuchUpload", status: 404 });
    // A retried complete (its answer lost) gets the same result while the key holds that object.
    const again = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "big", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
    expect(again).toMatchObject({ ETag: want, Bucket: bucket, Key: "big" });

    // Parts of the completed object by partNumber: each part's bytes, the parts count, the object's ETag.
    for (const [n, bytes, from] of [[1, p1, 0], [2, p2, p1.length]] as const) {
      const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big", PartNumber: n }));
      expect(part).toMatchObject({ ETag: want, PartsCount: 2, ContentLength: bytes.length, ContentRange: `bytes ${from}-${from + bytes.length - 1}/${p1.length + p2.length}` });
      expect(part.$metadata.httpStatusCode).toBe(206);
      expect(Buffer.from(await part.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    }
    expect(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "big", PartNumber: 2 }))).toMatchObject({ ContentLength: p2.length, PartsCount: 2, ETag: want });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big", PartNumber: 3 })))).toMatchObject({ name: "InvalidPartNumber", status: 416 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big", PartNumber: 1, Range: "bytes=0-1" })))).toMatchObject({ name: "InvalidRequest", status: 400 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big", PartNumber: 0 })))).toMatchObject({ name: "InvalidArgument", status: 400 });
    // An object put whole has one part: itself.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "whole", Body: "one piece" }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "whole", PartNumber: 1 }))).Body!.transformToString()).toBe("one piece");
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "whole", PartNumber: 2 })))).toMatchObject({ name: "InvalidPartNumber", status: 416 });
    // Once the key holds another object, the old upload id is gone.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big", Body: "replaced" }));
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "big", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }))))
      .toMatchObject({ name: "NoSuchUpload", status: 404 });

    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "small" }));
    const s1 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "small", UploadId: small.UploadId, PartNumber: 1, Body: "tiny" }))).ETag!;
    const s2 = (await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "small", UploadId: small.UploadId, PartNumber: 2, Body: "tiny" }))).ETag!;
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "small", UploadId: small.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: s1 }, { PartNumber: 2, ETag: s2 }] } }))))
      .toMatchObject({ name: "EntityTooSmall", status: 400 });
    expect((await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "small", UploadId: small.UploadId }))).$metadata.httpStatusCode).toBe(204);
    expect(await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: "small", UploadId: small.UploadId, PartNumber: 3, Body: "x" })))).toMatchObject({ name: "NoSuchUpload", status: 404 });
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
  }, BIG_UPLOAD_TIMEOUT);

  it("uploads a 100 MiB stream with @aws-sdk/lib-storage Upload byte-exact", async () => {
    const data = bytesOf(100 * 1024 * 1024 + 77, 31);
    const stream = Readable.from(Array.from({ length: Math.ceil(data.length / 262144) }, (_, i) => data.subarray(i * 262144, (i + 1) * 262144)));
    const up = new Upload({ client: s3, params: { Bucket: bucket, Key: "lib/big.bin", Body: stream, ContentType: "application/x-lib" }, partSize: 5 * 1024 * 1024, queueSize: 2 });
    const done = await up.done();
    const PART = 5 * 1024 * 1024;
    const md5s = Array.from({ length: Math.ceil(data.length / PART) }, (_, i) => Buffer.from(md5(data.subarray(i * PART, (i + 1) * PART)), "hex"));
    expect(done.ETag).toBe(`"${md5(Buffer.concat(md5s))}-21"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "lib/big.bin" }));
    expect(got.ContentLength).toBe(data.length);
    expect(got.ContentType).toBe("application/x-lib");
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
  }, BIG_UPLOAD_TIMEOUT);
});

describe("S3 clone: versions listing, tagging, CORS, attributes, snapshots, and what is not built", () => {
  let run: Run;
  let s3: S3Client;
  let bucket: string;
  beforeAll(async () => void ({ run, s3, bucket } = await s3Setup(s3Of, bucketName())));

  it("lists an unversioned bucket's objects as their null versions (ListObjectVersions) and reports versioning off", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    for (const key of ["v/1", "v/2", "w"]) await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: key }));
    const all = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(all.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([["v/1", "null", true], ["v/2", "null", true], ["w", "null", true]]);
    expect(all.DeleteMarkers ?? []).toEqual([]);
    const p1 = await s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 2 }));
    expect(p1).toMatchObject({ IsTruncated: true, NextKeyMarker: "v/2", NextVersionIdMarker: "null" });
    const p2 = await s3.send(new ListObjectVersionsCommand({ Bucket: b, KeyMarker: p1.NextKeyMarker, VersionIdMarker: p1.NextVersionIdMarker }));
    expect(p2.Versions?.map((v) => v.Key)).toEqual(["w"]);
    const delim = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Delimiter: "/" }));
    expect(delim.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["v/"]);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBeUndefined();
    // The clean-up s3-tests does: versions listed, then deleted by DeleteObjects with their version ids.
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: all.Versions!.map((v) => ({ Key: v.Key!, VersionId: v.VersionId })) } }));
    expect(del.Deleted).toHaveLength(3);
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it("tags objects (x-amz-tagging, Put/Get/DeleteObjectTagging, TagCount) and buckets (NoSuchTagSet)", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "tagged", Body: "t", Tagging: "team=core&env=test%20run" }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }))).TagSet).toEqual([{ Key: "team", Value: "core" }, { Key: "env", Value: "test run" }]);
    expect((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "tagged" }))).TagCount).toBe(2);
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: "tagged", Tagging: { TagSet: [{ Key: "only", Value: "one" }] } }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }))).TagSet).toEqual([{ Key: "only", Value: "one" }]);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "tagged-copy", CopySource: `${bucket}/tagged` }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "tagged-copy" }))).TagSet).toEqual([{ Key: "only", Value: "one" }]);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "tagged" }))).TagSet).toEqual([]);
    const tooMany = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
    expect((await failure(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: "tagged", Tagging: { TagSet: tooMany } })))).status).toBe(400);
    expect(await failure(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "missing" })))).toMatchObject({ name: "NoSuchKey" });

    expect(await failure(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })))).toMatchObject({ name: "NoSuchTagSet", status: 404 });
    await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: "cost", Value: "ci" }] } }));
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet).toEqual([{ Key: "cost", Value: "ci" }]);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
    expect(await failure(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })))).toMatchObject({ name: "NoSuchTagSet" });
  });

  it("stores a bucket's CORS rules and answers matching origins with Access-Control headers", async () => {
    expect(await failure(s3.send(new GetBucketCorsCommand({ Bucket: bucket })))).toMatchObject({ name: "NoSuchCORSConfiguration", status: 404 });
    const rules = [{ AllowedOrigins: ["https://app.example"], AllowedMethods: ["GET", "PUT"], AllowedHeaders: ["*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 600 }];
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules).toEqual(rules);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "cors", Body: "c" }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "cors" }), { expiresIn: 300 });
    const res = await fetch(url, { headers: { origin: "https://app.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toBe("ETag");
    const other = await fetch(url, { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(await failure(s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["PATCH"] }] } })))).toMatchObject({ status: 400 });
    await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    expect(await failure(s3.send(new GetBucketCorsCommand({ Bucket: bucket })))).toMatchObject({ name: "NoSuchCORSConfiguration" });
  });

  it("answers GetObjectAttributes and copies part ranges with UploadPartCopy", async () => {
    const src = bytesOf(6 * 1024 * 1024 + 5, 41);
    const up = await new Upload({ client: s3, params: { Bucket: bucket, Key: "attr-src", Body: src }, partSize: 5 * 1024 * 1024 }).done();
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: "attr-src", ObjectAttributes: ["ETag", "ObjectSize", "StorageClass", "ObjectParts"] }));
    expect(attrs).toMatchObject({ ETag: up.ETag!.replace(/"/g, ""), ObjectSize: src.length, StorageClass: "STANDARD", ObjectParts: { TotalPartsCount: 2 } });

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "assembled" }));
    const c1 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: "assembled", UploadId, PartNumber: 1, CopySource: `${bucket}/attr-src`, CopySourceRange: `bytes=0-${5 * 1024 * 1024 - 1}` }));
    expect(c1.CopyPartResult?.ETag).toBe(`"${md5(src.subarray(0, 5 * 1024 * 1024))}"`);
    const c2 = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: "assembled", UploadId, PartNumber: 2, CopySource: `${bucket}/attr-src`, CopySourceRange: `bytes=${5 * 1024 * 1024}-${src.length - 1}` }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "assembled", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.CopyPartResult!.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult!.ETag }] } }));
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "assembled" }))).Body!.transformToByteArray());
    expect(got.equals(src)).toBe(true);
    expect(await failure(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: "assembled", UploadId: "nope", PartNumber: 1, CopySource: `${bucket}/attr-src` })))).toMatchObject({ name: "NoSuchUpload" });
  }, BIG_UPLOAD_TIMEOUT);

  it("restores objects, bytes included, from a snapshot", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "snap", Body: "before", Metadata: { v: "1" } }));
    const snap = await admin(run, "POST", "/snapshots", { label: "s3" });
    expect(snap.status).toBe(201);
    expect(snap.json.counts.s3).toMatchObject({ bucket: 1 });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "snap", Body: "after" }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "snap-new", Body: "new" }));
    expect((await admin(run, "POST", `/snapshots/${snap.json.id}/restore`)).status).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "snap" }));
    expect(await got.Body!.transformToString()).toBe("before");
    expect(got.Metadata).toEqual({ v: "1" });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "snap-new" })))).toMatchObject({ status: 404 });
  });

  it("keeps large bodies (chunks) through a failed upload, a snapshot restore and a branch of the snapshot", async () => {
    // Under 2 MiB each, so the SDK sends no Expect: 100-continue; over a chunk (1 MiB) each.
    const first = bytesOf(1.5 * 1024 * 1024 + 7, 11);
    const second = bytesOf(1.5 * 1024 * 1024 + 7, 12);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big-snap", Body: first }));
    const wrongMd5 = createHash("md5").update("other").digest("base64");
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big-snap", Body: bytesOf(1.5 * 1024 * 1024, 13), ContentMD5: wrongMd5 })))).toMatchObject({ name: "BadDigest", status: 400 });
    const snap = await admin(run, "POST", "/snapshots", { label: "big" });
    expect(snap.status).toBe(201);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big-snap", Body: second }));
    const read = async (c: S3Client, range?: string) => Buffer.from(await (await c.send(new GetObjectCommand({ Bucket: bucket, Key: "big-snap", Range: range }))).Body!.transformToByteArray());
    expect(md5(await read(s3))).toBe(md5(second));
    expect((await admin(run, "POST", `/snapshots/${snap.json.id}/restore`)).status).toBe(200);
    expect(md5(await read(s3))).toBe(md5(first));
    // A range across the chunk boundary.
    expect((await read(s3, "bytes=1048570-1048589")).equals(first.subarray(1048570, 1048590))).toBe(true);
    // Another world reads the bytes its bundle only references.
    const branch = await spawn({ kinds: ["s3"], fromSnapshot: { runId: run.runId, snapshotId: snap.json.id } });
    expect(md5(await read(s3Of(branch)))).toBe(md5(first));
  });

  it("keeps large bodies in branches and imported bundles after the run that wrote them is torn down", async () => {
    const body = bytesOf(1.5 * 1024 * 1024 + 3, 21);
    const a = await spawn({ kinds: ["s3"] });
    const sa = s3Of(a);
    await sa.send(new CreateBucketCommand({ Bucket: "keep" }));
    await sa.send(new PutObjectCommand({ Bucket: "keep", Key: "big", Body: body }));
    const snap = (await admin(a, "POST", "/snapshots", { label: "a" })).json;
    const bundle = new Uint8Array(await (await fetch(`${a.adminUrl}/snapshots/${snap.id}`, { headers: { authorization: `Bearer ${a.token}`, accept: "application/gzip" } })).arrayBuffer());
    expect(bundle.byteLength).toBeGreaterThan(0);
    const branch = await spawn({ kinds: ["s3"], fromSnapshot: { runId: a.runId, snapshotId: snap.id } });
    const c = await spawn({ kinds: ["s3"] });
    const imported = await admin(c, "POST", "/snapshots/import", bundle);
    expect(imported.status).toBe(201);
    expect((await api("DELETE", `/v1/runs/${a.runId}`, inject("orgKey"))).status).toBeLessThan(300);

    const read = async (client: S3Client) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: "keep", Key: "big" }))).Body!.transformToByteArray());
    expect(md5(await read(s3Of(branch)))).toBe(md5(body));
    expect((await admin(c, "POST", `/snapshots/${imported.json.id}/restore`)).status).toBe(200);
    expect(md5(await read(s3Of(c)))).toBe(md5(body));
    // A branch of the branch: the pieces are named after the first run, published by the second.
    const snapB = (await admin(branch, "POST", "/snapshots", { label: "b" })).json;
    const grand = await spawn({ kinds: ["s3"], fromSnapshot: { runId: branch.runId, snapshotId: snapB.id } });
    expect(md5(await read(s3Of(grand)))).toBe(md5(body));
    // The downloaded bundle only names the bytes, which left with the first run: refused, world untouched.
    const late = await spawn({ kinds: ["s3"] });
    const refused = await admin(late, "POST", "/snapshots/import", bundle);
    expect(refused.status).toBe(422);
    expect(refused.json.error.message).toMatch(/no longer stored/);
    expect((await admin(late, "GET", "/snapshots")).json.data).toEqual([]);
  });

  it("stores and returns a bucket policy (NoSuchBucketPolicy, MalformedPolicy)", async () => {
    expect(await failure(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({ name: "NoSuchBucketPolicy", status: 404 });
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` }] });
    expect((await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }))).$metadata.httpStatusCode).toBe(204);
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy).toBe(policy);
    expect(await failure(s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: "not json" })))).toMatchObject({ name: "MalformedPolicy", status: 400 });
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    expect(await failure(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toMatchObject({ name: "NoSuchBucketPolicy" });
  });

  it("has ACLs disabled, as every bucket S3 creates now: reads show the owner's full control, writes are refused", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "acl/owned", Body: "x", ACL: "bucket-owner-full-control" }));
    for (const acl of [await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: "acl/owned" })), await s3.send(new GetBucketAclCommand({ Bucket: bucket }))]) {
      expect(acl.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
      expect(acl.Grants).toEqual([{ Grantee: { Type: "CanonicalUser", ID: acl.Owner!.ID, DisplayName: acl.Owner!.DisplayName }, Permission: "FULL_CONTROL" }]);
    }
    expect(await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))).toMatchObject({ OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] } });
    const refused = { name: "AccessControlListNotSupported", status: 400 };
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "acl/public", Body: "x", ACL: "public-read" })))).toMatchObject(refused);
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "acl/private", Body: "x", ACL: "private" })))).toMatchObject(refused);
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "acl/copy", CopySource: `${bucket}/acl/owned`, ACL: "public-read" })))).toMatchObject(refused);
    expect(await failure(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "acl/mp", GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' })))).toMatchObject(refused);
    expect(await failure(s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: "acl/owned", ACL: "public-read" })))).toMatchObject(refused);
    expect(await failure(s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: "private" })))).toMatchObject(refused);
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "acl/public" })))).toMatchObject({ status: 404 });
    expect(await failure(s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: "acl/none" })))).toMatchObject({ name: "NoSuchKey", status: 404 });
    const other = `${bucket}-acl`;
    expect(await failure(s3.send(new CreateBucketCommand({ Bucket: other, ACL: "public-read" })))).toMatchObject({ name: "InvalidBucketAclWithObjectOwnership", status: 400 });
    expect((await s3.send(new CreateBucketCommand({ Bucket: other, ACL: "private" }))).$metadata.httpStatusCode).toBe(200);
    await s3.send(new DeleteBucketCommand({ Bucket: other }));
  });

  it("answers S3's 501 NotImplemented for what is not built, never a fake success", async () => {
    expect(await failure(s3.send(new GetBucketReplicationCommand({ Bucket: bucket })))).toMatchObject({ name: "NotImplemented", status: 501 });
    expect(await failure(s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })))).toMatchObject({ name: "NotImplemented", status: 501 });
    // Encryption the clone does not perform is refused, not silently stored in the clear.
    const sseC = { SSECustomerAlgorithm: "AES256", SSECustomerKey: "a".repeat(32) };
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "sse-c", Body: "x", ...sseC })))).toMatchObject({ name: "NotImplemented", status: 501 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "sse-kms", Body: "x", ServerSideEncryption: "aws:kms" })))).toMatchObject({ name: "NotImplemented", status: 501 });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "sse-c" })))).toMatchObject({ name: "NotFound", status: 404 });
    // Refusals before a large streamed body is read still reach the client.
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "sse-c-big", Body: bytesOf(8 * 1024 * 1024), ...sseC })))).toMatchObject({ name: "NotImplemented", status: 501 });
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: "no-such-bucket-here", Key: "big", Body: bytesOf(8 * 1024 * 1024) })))).toMatchObject({ name: "NoSuchBucket", status: 404 });
    const plain = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "sse-s3", Body: "x", ServerSideEncryption: "AES256" }));
    expect(plain.ServerSideEncryption).toBe("AES256");
  });
});
