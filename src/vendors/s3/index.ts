import type { VendorPlugin } from "../../kernel/types.ts";
import { CREDENTIAL_HEADER } from "../credentials.ts";
import { s3Anonymous, worldOfKey } from "./anonymous.ts";
import { randomBase62, safeEqual } from "../../lib/crypto.ts";
import { s3Errors } from "./errors.ts";
import { accessKeyOf } from "./sigv4.ts";
import { s3Router, s3Unmatched, streamsBody } from "./routes/index.ts";
import { lifecycleJobs } from "./lifecycle.ts";
import migrations from "../../../migrations/s3/migrations.js";

/**
 * The S3 clone: path-style S3 with SigV4, buckets, objects (bytes streamed into content-addressed rows), multipart
 * uploads and presigned URLs that expire on the run clock.
 */
export const s3: VendorPlugin = {
  kind: "s3",
  migrations,
  tables: [
    { name: "s3_buckets", type: "bucket", idColumn: "name" },
    { name: "s3_objects", type: "object", idColumn: "id" },
    { name: "s3_versions", type: "version", idColumn: "id" },
    { name: "s3_uploads", type: "multipart_upload", idColumn: "id" },
    { name: "s3_parts" },
    { name: "s3_completed_uploads" },
  ],
  maxBodyBytes: 5 * 1024 ** 3,
  streamBodies: streamsBody,
  errors: s3Errors,
  // The access key id is the tenant: AKIA + the world id in upper case.
  worldIdOf: (req) => worldOfKey(accessKeyOf(req)),
  anonymous: s3Anonymous,
  mintCredentials: async (w) => ({ region: "us-east-1", accessKeyId: `AKIA${w.toUpperCase()}`, secretAccessKey: randomBase62(40) }),
  // The key id alone here (an unknown one is InvalidAccessKeyId); the signature is verified by
  // the router, which answers SignatureDoesNotMatch or AccessDenied in S3's own terms.
  // A form upload's key id comes from its fields, found by the gateway (see anonymous.ts).
  authenticate: (req, creds) => safeEqual(accessKeyOf(req) ?? req.headers.get(CREDENTIAL_HEADER) ?? "", creds.accessKeyId),
  router: s3Router,
  unmatched: s3Unmatched,
  jobs: (k) => lifecycleJobs(k),
  presets: {
    // Acted on by the domain (presets.ts): a method and path glob cannot single these operations out.
    slow_put: { description: "PutObject and UploadPart take 2 s longer", method: "PUT" },
    "503_restore": { description: "RestoreObject and reads of GLACIER / DEEP_ARCHIVE objects answer 503 SlowDown" },
    // Consulted by the daily lifecycle run (lifecycle.ts): each firing runs that day's rules a day ahead.
    lifecycle_early_delete: { description: "Lifecycle rules expire objects a day early" },
  },
};
