// S3 versioning, lifecycle rules and Object Lock through the official AWS SDK v3, configured only by
// the run's endpoint, region and credentials; lifecycle and retention run on the run's clock.
import { describe, expect, it, beforeAll } from "vitest";
import {
  S3Client, CreateBucketCommand, DeleteBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand,
  DeleteObjectsCommand, CopyObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, GetBucketVersioningCommand,
  PutBucketVersioningCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, ListMultipartUploadsCommand,
  PutObjectTaggingCommand, GetObjectTaggingCommand, GetObjectAttributesCommand, PutBucketLifecycleConfigurationCommand,
  GetBucketLifecycleConfigurationCommand, DeleteBucketLifecycleCommand, PutObjectLockConfigurationCommand, GetObjectLockConfigurationCommand,
  PutObjectRetentionCommand, GetObjectRetentionCommand, PutObjectLegalHoldCommand, GetObjectLegalHoldCommand, type LifecycleRule,
} from "@aws-sdk/client-s3";
import { admin, advance, spawn, uniqueId, s3Of, s3Failure, type Run } from "./helpers.ts";


/** The error an SDK call fails with: its name, HTTP status and response headers. */
const failure = s3Failure;

const bucketName = () => uniqueId("v").toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 60);
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("S3 clone: versioning", () => {
  let run: Run;
  let s3: S3Client;
  beforeAll(async () => {
    run = await spawn({ kinds: ["s3"] });
    s3 = s3Of(run);
  });

  async function versionedBucket(status: "Enabled" | "Suspended" = "Enabled"): Promise<string> {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: status } }));
    return b;
  }
  const text = async (b: string, key: string, versionId?: string) => (await (await s3.send(new GetObjectCommand({ Bucket: b, Key: key, VersionId: versionId }))).Body!.transformToString());

  it("reports and changes a bucket's versioning status (Enabled, Suspended, MalformedXML)", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBeUndefined();
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled", MFADelete: "Disabled" } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe("Enabled");
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Suspended" } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe("Suspended");
    expect(await failure(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "On" as "Enabled" } })))).toMatchObject({ name: "MalformedXML", status: 400 });
    expect(await failure(s3.send(new GetBucketVersioningCommand({ Bucket: `${b}-none` })))).toMatchObject({ name: "NoSuchBucket", status: 404 });
  });

  it("keeps every version, reads each by id, and answers delete markers as S3 does (404 with x-amz-delete-marker, 405 by id)", async () => {
    const b = await versionedBucket();
    const ids: string[] = [];
    for (const body of ["one", "two", "three"]) ids.push((await s3.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: body }))).VersionId!);
    expect(new Set(ids).size).toBe(3);
    ids.forEach((id) => expect(id).toMatch(/^[A-Za-z0-9]{32}$/));
    expect(await text(b, "doc")).toBe("three");
    expect(await text(b, "doc", ids[0])).toBe("one");
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: "doc", VersionId: ids[1] }));
    expect(head).toMatchObject({ VersionId: ids[1], ContentLength: 3 });
    expect((await s3.send(new GetObjectCommand({ Bucket: b, Key: "doc" }))).VersionId).toBe(ids[2]);

    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(listed.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size])).toEqual([[ids[2], true, 5], [ids[1], false, 3], [ids[0], false, 3]]);

    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc" }));
    expect(del.DeleteMarker).toBe(true);
    const markerId = del.VersionId!;
    expect(markerId).toMatch(/^[A-Za-z0-9]{32}$/);
    const gone = await failure(s3.send(new GetObjectCommand({ Bucket: b, Key: "doc" })));
    expect(gone).toMatchObject({ name: "NoSuchKey", status: 404 });
    expect(gone.headers).toMatchObject({ "x-amz-delete-marker": "true", "x-amz-version-id": markerId });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: b, Key: "doc" })))).toMatchObject({ status: 404, headers: { "x-amz-delete-marker": "true" } });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: b, Key: "doc", VersionId: markerId })))).toMatchObject({ name: "MethodNotAllowed", status: 405, headers: { "x-amz-delete-marker": "true" } });
    expect((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(0);
    const withMarker = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(withMarker.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([["doc", markerId, true]]);
    expect(withMarker.Versions?.every((v) => v.IsLatest === false)).toBe(true);
    expect(await failure(s3.send(new DeleteBucketCommand({ Bucket: b })))).toMatchObject({ name: "BucketNotEmpty", status: 409 });

    // Removing the marker brings the newest version back; removing the current version, the one before.
    const unmark = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: markerId }));
    expect(unmark).toMatchObject({ DeleteMarker: true, VersionId: markerId });
    expect(await text(b, "doc")).toBe("three");
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: ids[2] }));
    expect(await text(b, "doc")).toBe("two");
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: b, Key: "doc", VersionId: ids[2] })))).toMatchObject({ name: "NoSuchVersion", status: 404 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: b, Key: "doc", VersionId: "not-a-version" })))).toMatchObject({ name: "InvalidArgument", status: 400 });
    // Deleting a version that is already gone is a no-op, as at S3.
    expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: ids[2] }))).$metadata.httpStatusCode).toBe(204);
    for (const id of ids.slice(0, 2)) await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: id }));
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions).toBeUndefined();
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it("treats the null version as S3 does when versioning is enabled over old objects and then suspended", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const plain = await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "plain" }));
    expect(plain.VersionId).toBeUndefined();
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "v1" }))).VersionId!;
    expect(await text(b, "k", "null")).toBe("plain");
    let versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions!;
    expect(versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([[v1, true], ["null", false]]);

    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Suspended" } }));
    // A suspended bucket writes the null version, replacing the old one; v1 stays.
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "null-2" }));
    expect(put.VersionId).toBeUndefined();
    expect((await s3.send(new GetObjectCommand({ Bucket: b, Key: "k" }))).VersionId).toBe("null");
    versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions!;
    expect(versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([["null", true], [v1, false]]);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "null-3" }));
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions).toHaveLength(2);
    expect(await text(b, "k", "null")).toBe("null-3");

    // A delete leaves a null delete marker in place of the null version.
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "k" }));
    expect(del).toMatchObject({ DeleteMarker: true, VersionId: "null" });
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(after.Versions?.map((v) => v.VersionId)).toEqual([v1]);
    expect(after.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([["null", true]]);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "k", VersionId: "null" }));
    expect(await text(b, "k")).toBe("v1");
  });

  it("pages ListObjectVersions by key-marker and version-id-marker, with prefix and delimiter", async () => {
    const b = await versionedBucket();
    const made: [string, string][] = [];
    for (const key of ["a", "a", "a", "b", "dir/x", "dir/y", "e"]) made.push([key, (await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: key }))).VersionId!]);
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "b" }))).VersionId!;
    const seen: [string, string, boolean][] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      pages++;
      const items = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => [v.Key!, v.VersionId!, v.IsLatest!] as [string, string, boolean]);
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...items.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    expect(pages).toBe(4);
    const aIds = made.filter(([k]) => k === "a").map(([, v]) => v).reverse();
    expect(seen.filter(([k]) => k === "a")).toEqual([[`a`, aIds[0], true], ["a", aIds[1], false], ["a", aIds[2], false]]);
    expect(seen.filter(([k]) => k === "b").map(([, v, l]) => [v, l])).toEqual(expect.arrayContaining([[marker, true], [made[3][1], false]]));
    expect(seen.map(([k]) => k)).toEqual(["a", "a", "a", "b", "b", "dir/x", "dir/y", "e"]);

    const rolled = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Delimiter: "/" }));
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["dir/"]);
    expect(rolled.Versions?.map((v) => v.Key)).toEqual(["a", "a", "a", "b", "e"]);
    const under = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: "dir/" }));
    expect(under.Versions?.map((v) => v.Key)).toEqual(["dir/x", "dir/y"]);
    expect(await failure(s3.send(new ListObjectVersionsCommand({ Bucket: b, VersionIdMarker: aIds[0] })))).toMatchObject({ name: "InvalidArgument", status: 400 });
  });

  it("deletes versions and makes markers with DeleteObjects, idempotently", async () => {
    const b = await versionedBucket();
    const ids: string[] = [];
    for (const body of ["1", "2"]) ids.push((await s3.send(new PutObjectCommand({ Bucket: b, Key: "key", Body: body }))).VersionId!);
    const marked = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: "key" }, { Key: "never-written" }] } }));
    expect(marked.Deleted?.map((d) => [d.Key, d.DeleteMarker])).toEqual([["key", true], ["never-written", true]]);
    const markerIds = marked.Deleted!.map((d) => d.DeleteMarkerVersionId!);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(listed.DeleteMarkers?.map((m) => m.VersionId).sort()).toEqual([...markerIds].sort());

    const all = [...ids.map((VersionId) => ({ Key: "key", VersionId })), { Key: "key", VersionId: markerIds[0] }, { Key: "never-written", VersionId: markerIds[1] }];
    for (let i = 0; i < 2; i++) {
      const res = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: all } }));
      expect(res.Errors ?? []).toEqual([]);
      expect(res.Deleted).toHaveLength(4);
      if (i === 0) expect(res.Deleted?.find((d) => d.VersionId === markerIds[0])).toMatchObject({ DeleteMarker: true, DeleteMarkerVersionId: markerIds[0] });
      const left = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
      expect(left.Versions).toBeUndefined();
      expect(left.DeleteMarkers).toBeUndefined();
    }
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it("copies a named version, returns version ids from copies and multipart uploads, and tags and describes one version", async () => {
    const b = await versionedBucket();
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: "src", Body: "first" }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "src", Body: "second" }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: "dst", CopySource: `${b}/src?versionId=${v1}` }));
    expect(copy.CopySourceVersionId).toBe(v1);
    expect(copy.VersionId).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await text(b, "dst")).toBe("first");
    // Copying an older version over its own key restores it as a new version.
    const restored = await s3.send(new CopyObjectCommand({ Bucket: b, Key: "src", CopySource: `${b}/src?versionId=${v1}` }));
    expect(await text(b, "src")).toBe("first");
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: "src" }))).Versions?.[0].VersionId).toBe(restored.VersionId);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "mp" }));
    const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: "mp", UploadId, PartNumber: 1, Body: "parts" }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: "mp", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(done.VersionId).toMatch(/^[A-Za-z0-9]{32}$/);
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: "mp" }))).VersionId).toBe(done.VersionId);

    await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: "src", VersionId: v1, Tagging: { TagSet: [{ Key: "era", Value: "old" }] } }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: "src", VersionId: v1 }))).TagSet).toEqual([{ Key: "era", Value: "old" }]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: "src" }))).TagSet).toEqual([]);
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: b, Key: "src", VersionId: v1, ObjectAttributes: ["ObjectSize", "ETag"] }));
    expect(attrs).toMatchObject({ VersionId: v1, ObjectSize: 5 });
  });

  it("keeps versions and delete markers through a snapshot and restore", async () => {
    const b = await versionedBucket();
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: "s", Body: "kept" }))).VersionId!;
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "s" }))).VersionId!;
    const snap = await admin(run, "POST", "/snapshots", { label: "versions" });
    expect(snap.status).toBe(201);
    expect(snap.json.counts.s3).toMatchObject({ version: expect.any(Number) });
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "s", VersionId: marker }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "s", VersionId: v1 }));
    expect((await admin(run, "POST", `/snapshots/${snap.json.id}/restore`)).status).toBe(200);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(listed.Versions?.map((v) => v.VersionId)).toEqual([v1]);
    expect(listed.DeleteMarkers?.map((m) => m.VersionId)).toEqual([marker]);
    expect(await text(b, "s", v1)).toBe("kept");
  });
});

describe("S3 clone: lifecycle rules on the run clock", () => {
  let run: Run;
  let s3: S3Client;
  beforeAll(async () => {
    run = await spawn({ kinds: ["s3"] });
    s3 = s3Of(run);
  });
  const now = async () => Date.parse((await admin(run, "GET", "/clock")).json.now);
  /** Moves the run clock to 10:00 UTC of a later day, so day boundaries are predictable. */
  async function toMorning(): Promise<number> {
    const t = Math.floor((await now()) / DAY) * DAY + 2 * DAY + 10 * 3_600_000;
    await admin(run, "POST", "/clock/advance", { to: iso(t) });
    return t;
  }
  const keys = async (b: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((o) => o.Key);

  it("stores, returns and deletes a configuration, and refuses what S3 refuses", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect(await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })))).toMatchObject({ name: "NoSuchLifecycleConfiguration", status: 404 });
    const rules: LifecycleRule[] = [
      { ID: "logs", Status: "Enabled", Filter: { Prefix: "logs/" }, Expiration: { Days: 30 } },
      { ID: "tmp", Status: "Disabled", Filter: { Tag: { Key: "tmp", Value: "yes" } }, Expiration: { Date: new Date("2031-01-01T00:00:00Z") } },
      { ID: "both", Status: "Enabled", Filter: { And: { Prefix: "a/", Tags: [{ Key: "x", Value: "1" }, { Key: "y", Value: "2" }] } }, NoncurrentVersionExpiration: { NoncurrentDays: 7 } },
      { ID: "mpu", Status: "Enabled", Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
      { ID: "markers", Status: "Enabled", Prefix: "old/", Expiration: { ExpiredObjectDeleteMarker: true } },
    ];
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: rules } }));
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    expect(got.Rules).toEqual([
      rules[0], rules[1], rules[2],
      { ID: "mpu", Status: "Enabled", Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
      rules[4],
    ]);
    const refused = (r: LifecycleRule) => failure(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [r] } })));
    expect(await refused({ ID: "zero", Status: "Enabled", Filter: {}, Expiration: { Days: 0 } })).toMatchObject({ name: "InvalidArgument", status: 400 });
    expect(await refused({ ID: "x".repeat(256), Status: "Enabled", Filter: {}, Expiration: { Days: 1 } })).toMatchObject({ name: "InvalidArgument", status: 400 });
    expect(await refused({ ID: "s", Status: "enabled" as "Enabled", Filter: {}, Expiration: { Days: 1 } })).toMatchObject({ name: "MalformedXML", status: 400 });
    expect(await failure(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: {
      Rules: [{ ID: "same", Status: "Enabled", Filter: {}, Expiration: { Days: 1 } }, { ID: "same", Status: "Enabled", Filter: {}, Expiration: { Days: 2 } }],
    } })))).toMatchObject({ name: "InvalidArgument", status: 400 });
    // The refused configurations left the stored one alone.
    expect((await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }))).Rules).toHaveLength(5);
    expect((await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(204);
    expect(await failure(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })))).toMatchObject({ name: "NoSuchLifecycleConfiguration" });
  });

  it("expires objects at the first midnight UTC after they are N days old, by prefix and by tag, and says when (x-amz-expiration)", async () => {
    const t0 = await toMorning();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [
      { ID: "tmp-1d", Status: "Enabled", Filter: { Prefix: "tmp/" }, Expiration: { Days: 1 } },
      { ID: "tagged-3d", Status: "Enabled", Filter: { Tag: { Key: "ttl", Value: "short" } }, Expiration: { Days: 3 } },
    ] } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: "tmp/a", Body: "a" }));
    const dueTmp = Math.floor(t0 / DAY) * DAY + 2 * DAY;
    expect(put.Expiration).toBe(`expiry-date="${new Date(dueTmp).toUTCString()}", rule-id="tmp-1d"`);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "keep", Body: "k" }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "tagged", Body: "t", Tagging: "ttl=short" }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: "tagged" }))).Expiration).toBe(`expiry-date="${new Date(dueTmp + 2 * DAY).toUTCString()}", rule-id="tagged-3d"`);
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: "keep" }))).Expiration).toBeUndefined();

    await admin(run, "POST", "/clock/advance", { to: iso(dueTmp - 60_000) });
    expect(await keys(b)).toEqual(["keep", "tagged", "tmp/a"]);
    const fired = await admin(run, "POST", "/clock/advance", { to: iso(dueTmp + 60_000) });
    expect(fired.json.fired.map((f: { what: string }) => f.what)).toEqual(expect.arrayContaining([expect.stringContaining("1 expired")]));
    expect(await keys(b)).toEqual(["keep", "tagged"]);
    await advance(run, "2d");
    expect(await keys(b)).toEqual(["keep"]);
  });

  it("on a versioned bucket: expiration leaves a delete marker, noncurrent versions go after NoncurrentDays, lone markers are removed", async () => {
    const t0 = await toMorning();
    const midnight = Math.floor(t0 / DAY) * DAY;
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [
      { ID: "cur", Status: "Enabled", Filter: { Prefix: "cur/" }, Expiration: { Days: 2 } },
      { ID: "old", Status: "Enabled", Filter: { Prefix: "nc/" }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
      { ID: "markers", Status: "Enabled", Filter: { Prefix: "dm/" }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ] } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "cur/x", Body: "x" }));
    for (const body of ["1", "2", "3"]) await s3.send(new PutObjectCommand({ Bucket: b, Key: "nc/y", Body: body }));
    const dmVersion = (await s3.send(new PutObjectCommand({ Bucket: b, Key: "dm/z", Body: "z" }))).VersionId!;
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "dm/z" }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "dm/z", VersionId: dmVersion }));

    const versionsOf = async () => {
      const l = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
      return { versions: (l.Versions ?? []).map((v) => `${v.Key}${v.IsLatest ? "*" : ""}`), markers: (l.DeleteMarkers ?? []).map((m) => `${m.Key}${m.IsLatest ? "*" : ""}`) };
    };
    expect(await versionsOf()).toEqual({ versions: ["cur/x*", "nc/y*", "nc/y", "nc/y"], markers: ["dm/z*"] });
    // The first midnight: the lone marker goes; noncurrent versions are not a full day old yet.
    await admin(run, "POST", "/clock/advance", { to: iso(midnight + DAY + 60_000) });
    expect(await versionsOf()).toEqual({ versions: ["cur/x*", "nc/y*", "nc/y", "nc/y"], markers: [] });
    await admin(run, "POST", "/clock/advance", { to: iso(midnight + 2 * DAY + 60_000) });
    expect(await versionsOf()).toEqual({ versions: ["cur/x*", "nc/y*"], markers: [] });
    // cur/x is two days old at the third midnight: a delete marker hides it, its bytes stay a version.
    await admin(run, "POST", "/clock/advance", { to: iso(midnight + 3 * DAY + 60_000) });
    expect(await versionsOf()).toEqual({ versions: ["cur/x", "nc/y*"], markers: ["cur/x*"] });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: b, Key: "cur/x" })))).toMatchObject({ name: "NoSuchKey" });
  });

  it("aborts incomplete multipart uploads after DaysAfterInitiation", async () => {
    const t0 = await toMorning();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [
      { ID: "mpu", Status: "Enabled", Filter: { Prefix: "up/" }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ] } }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "up/a" }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "other" }));
    await admin(run, "POST", "/clock/advance", { to: iso(Math.floor(t0 / DAY) * DAY + 2 * DAY + 1000) });
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads?.map((u) => u.Key)).toEqual(["other"]);
  });

  it("runs rules a day early under the lifecycle_early_delete chaos preset", async () => {
    const t0 = await toMorning();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b, LifecycleConfiguration: { Rules: [{ ID: "d2", Status: "Enabled", Filter: {}, Expiration: { Days: 2 } }] } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "early", Body: "e" }));
    const preset = await admin(run, "POST", "/chaos/presets/s3/lifecycle_early_delete", {});
    expect(preset.status).toBeLessThan(300);
    // Due at the third midnight; with the preset the second midnight's run already expires it.
    await admin(run, "POST", "/clock/advance", { to: iso(Math.floor(t0 / DAY) * DAY + 2 * DAY + 1000) });
    expect(await keys(b)).toEqual([]);
    await admin(run, "DELETE", `/chaos/rules/${preset.json.id}`);
  });
});

describe("S3 clone: Object Lock", () => {
  let run: Run;
  let s3: S3Client;
  beforeAll(async () => {
    run = await spawn({ kinds: ["s3"] });
    s3 = s3Of(run);
  });
  async function lockedBucket(): Promise<string> {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
    return b;
  }

  it("enables versioning for good on a bucket created with Object Lock and stores its default retention", async () => {
    const b = await lockedBucket();
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe("Enabled");
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration).toEqual({ ObjectLockEnabled: "Enabled" });
    expect(await failure(s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Suspended" } })))).toMatchObject({ name: "InvalidBucketState", status: 409 });
    const conf = { ObjectLockEnabled: "Enabled" as const, Rule: { DefaultRetention: { Mode: "GOVERNANCE" as const, Days: 1 } } };
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: conf }));
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration).toEqual(conf);
    const put = (DefaultRetention: object) => failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention } } })));
    expect(await put({ Mode: "GOVERNANCE", Days: 1, Years: 1 })).toMatchObject({ name: "MalformedXML", status: 400 });
    expect(await put({ Mode: "GOVERNANCE", Days: 0 })).toMatchObject({ name: "InvalidRetentionPeriod", status: 400 });
    expect(await put({ Mode: "governance", Days: 1 })).toMatchObject({ name: "MalformedXML", status: 400 });

    const plain = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    expect(await failure(s3.send(new GetObjectLockConfigurationCommand({ Bucket: plain })))).toMatchObject({ name: "ObjectLockConfigurationNotFoundError", status: 404 });
    expect(await failure(s3.send(new PutObjectLockConfigurationCommand({ Bucket: plain, ObjectLockConfiguration: conf })))).toMatchObject({ name: "InvalidBucketState", status: 409 });
    await s3.send(new PutObjectCommand({ Bucket: plain, Key: "k", Body: "x" }));
    expect(await failure(s3.send(new PutObjectRetentionCommand({ Bucket: plain, Key: "k", Retention: { Mode: "GOVERNANCE", RetainUntilDate: new Date(Date.now() + DAY) } })))).toMatchObject({ name: "InvalidRequest", status: 400 });
    expect(await failure(s3.send(new GetObjectLegalHoldCommand({ Bucket: plain, Key: "k" })))).toMatchObject({ name: "InvalidRequest", status: 400 });
  });

  it("refuses deleting a retained version (governance yields to the bypass header), and frees it when the clock passes retain-until", async () => {
    const b = await lockedBucket();
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 1 } } } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "kept" }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: "doc" }));
    expect(head.ObjectLockMode).toBe("GOVERNANCE");
    const until = head.ObjectLockRetainUntilDate!.getTime();
    const clock = Date.parse((await admin(run, "GET", "/clock")).json.now);
    expect(Math.abs(until - (clock + DAY))).toBeLessThan(60_000);
    expect((await s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: "doc" }))).Retention).toEqual({ Mode: "GOVERNANCE", RetainUntilDate: new Date(until) });

    // Deleting without a version id only adds a marker; the locked version itself is refused.
    expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc" }))).DeleteMarker).toBe(true);
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: put.VersionId })))).toMatchObject({ name: "AccessDenied", status: 403 });
    const batch = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: "doc", VersionId: put.VersionId }] } }));
    expect(batch.Errors?.map((e) => [e.Key, e.VersionId, e.Code])).toEqual([["doc", put.VersionId, "AccessDenied"]]);

    // Shortening governance retention needs the bypass; lengthening does not.
    const later = new Date(until + DAY);
    await s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: "doc", VersionId: put.VersionId, Retention: { Mode: "GOVERNANCE", RetainUntilDate: later } }));
    expect(await failure(s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: "doc", VersionId: put.VersionId, Retention: { Mode: "GOVERNANCE", RetainUntilDate: new Date(until) } })))).toMatchObject({ name: "AccessDenied", status: 403 });
    await s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: "doc", VersionId: put.VersionId, Retention: { Mode: "GOVERNANCE", RetainUntilDate: new Date(until) }, BypassGovernanceRetention: true }));
    expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: put.VersionId, BypassGovernanceRetention: true }))).$metadata.httpStatusCode).toBe(204);

    // Compliance mode: no bypass, no shortening, until the run clock passes the date.
    const c = await s3.send(new PutObjectCommand({ Bucket: b, Key: "c", Body: "c", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: new Date(clock + 2 * DAY) }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: b, Key: "c", VersionId: c.VersionId, BypassGovernanceRetention: true })))).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(await failure(s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: "c", Retention: { Mode: "GOVERNANCE", RetainUntilDate: new Date(clock + 2 * DAY) }, BypassGovernanceRetention: true })))).toMatchObject({ name: "AccessDenied", status: 403 });
    await advance(run, "3d");
    expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "c", VersionId: c.VersionId }))).$metadata.httpStatusCode).toBe(204);
  });

  it("holds a version under legal hold until it is released, bypass or not", async () => {
    const b = await lockedBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: "held", Body: "h", ObjectLockLegalHoldStatus: "ON" }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: "held" }))).ObjectLockLegalHoldStatus).toBe("ON");
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: b, Key: "held" }))).LegalHold).toEqual({ Status: "ON" });
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: b, Key: "held", VersionId: put.VersionId, BypassGovernanceRetention: true })))).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(await failure(s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: "held", LegalHold: { Status: "MAYBE" as "ON" } })))).toMatchObject({ name: "MalformedXML", status: 400 });
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: "held", LegalHold: { Status: "OFF" } }));
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: b, Key: "held" }))).LegalHold).toEqual({ Status: "OFF" });
    expect((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "held", VersionId: put.VersionId }))).$metadata.httpStatusCode).toBe(204);
    expect(await failure(s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: "nothing-here" })))).toMatchObject({ name: "NoSuchKey", status: 404 });

    // Lock headers on a multipart upload apply to the object it completes.
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "mp", ObjectLockLegalHoldStatus: "ON" }));
    const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: "mp", UploadId, PartNumber: 1, Body: "p" }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: "mp", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: b, Key: "mp", VersionId: done.VersionId })))).toMatchObject({ name: "AccessDenied", status: 403 });
    const plain = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: plain, Key: "k", Body: "x", ObjectLockLegalHoldStatus: "ON" })))).toMatchObject({ name: "InvalidRequest", status: 400 });
  });
});
