// ACLs as S3 has them for every bucket created since April 2023: Object Ownership is
// BucketOwnerEnforced, so ACLs are disabled. Reading one answers the owner's FULL_CONTROL;
// setting one fails (AccessControlListNotSupported), except the bucket-owner-full-control an
// object write may name, and a new bucket's `private`. Re-enabling ACLs through ownership
// controls is not built (NotImplemented), so no write here ever grants what it seems to.
import type { Kernel } from "../../kernel/types.ts";
import { S3Error } from "./errors.ts";
import { xmlResponse } from "./xml.ts";
import { owner } from "./routes/request.ts";

const GRANTS = ["x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control"];

const notSupported = () => new S3Error(400, "AccessControlListNotSupported", "The bucket does not allow ACLs");

/** An object write (PutObject, CopyObject, CreateMultipartUpload, a form's `acl`): only the owner's full control. */
export function checkObjectAcl(acl: string | null, headers?: Headers): void {
  if (acl !== null && acl !== "bucket-owner-full-control") throw notSupported();
  if (headers && GRANTS.some((h) => headers.has(h))) throw notSupported();
}

/** CreateBucket: a canned ACL other than private cannot go with BucketOwnerEnforced. */
export function checkBucketAcl(headers: Headers): void {
  const acl = headers.get("x-amz-acl");
  if ((acl !== null && acl !== "private") || GRANTS.some((h) => headers.has(h))) {
    throw new S3Error(400, "InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
  }
}

/** GET ?acl of a bucket or an object: the owner's FULL_CONTROL; PUT ?acl: refused. */
export function aclRoute(k: Kernel, method: string): Response | null {
  if (method === "PUT") throw notSupported();
  if (method !== "GET") return null;
  const o = owner(k);
  return xmlResponse("AccessControlPolicy", {
    Owner: o,
    AccessControlList: {
      Grant: [{ Grantee: { "@xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "@xsi:type": "CanonicalUser", ...o }, Permission: "FULL_CONTROL" }],
    },
  });
}

/** GET ?ownershipControls: the one setting every bucket has here. */
export function ownershipRoute(method: string): Response | null {
  if (method !== "GET") return null;
  return xmlResponse("OwnershipControls", { Rule: { ObjectOwnership: "BucketOwnerEnforced" } });
}
