// S3 bucket notifications through @aws-sdk/client-s3: configurations as S3 validates and returns
// them, and the messages their destinations get (an ARN stands for the run's s3 webhook endpoints
// that name it; an http(s) URL is the clone's own stand-in), on the run clock.
import { describe, expect, it } from "vitest";
import {
  CreateBucketCommand, PutObjectCommand, CopyObjectCommand, DeleteObjectCommand, PutObjectTaggingCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
  PutBucketNotificationConfigurationCommand, GetBucketNotificationConfigurationCommand,
} from "@aws-sdk/client-s3";
import { admin, advance, receiver, spawn, uniqueId, s3Of, s3Failure } from "./helpers.ts";

interface S3Record {
  eventName: string;
  eventSource: string;
  s3: { configurationId: string; bucket: { name: string; arn: string }; object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer: string } };
}

const QUEUE = "arn:aws:sqs:us-east-1:123456789012:uploads";

describe("S3 clone: bucket notifications", () => {
  it("stores and answers configurations, refuses ones S3 would, and delivers each event to its destinations on the clock", async () => {
    const queue = await receiver();
    const fn = await receiver();
    const bridge = await receiver();
    try {
      const run = await spawn({ kinds: ["s3"] });
      const s3 = s3Of(run);
      const bucket = uniqueId("n").toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 60);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      expect((await admin(run, "POST", "/webhooks/endpoints", { kind: "s3", url: queue.url, events: [QUEUE] })).status).toBe(201);
      expect((await admin(run, "POST", "/webhooks/endpoints", { kind: "s3", url: bridge.url, events: ["eventbridge"] })).status).toBe(201);

      expect(await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }))).not.toHaveProperty("QueueConfigurations");
      // A queue ARN given as a topic, and an event S3 does not have, are refused.
      const bad = (cfg: object) => s3Failure(s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: cfg })));
      expect(await bad({ TopicConfigurations: [{ TopicArn: QUEUE, Events: ["s3:ObjectCreated:*"] }] })).toMatchObject({ name: "InvalidArgument", status: 400 });
      expect(await bad({ QueueConfigurations: [{ QueueArn: QUEUE, Events: ["s3:ObjectSomething:*"] }] })).toMatchObject({ name: "InvalidArgument", status: 400 });

      await s3.send(new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [{ Id: "images", QueueArn: QUEUE, Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "images/" }, { Name: "suffix", Value: ".png" }] } } }],
          LambdaFunctionConfigurations: [{ Id: "removals", LambdaFunctionArn: fn.url, Events: ["s3:ObjectRemoved:*", "s3:ObjectTagging:Put"] }],
          EventBridgeConfiguration: {},
        },
      }));
      const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
      expect(got.QueueConfigurations).toEqual([{ Id: "images", QueueArn: QUEUE, Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "images/" }, { Name: "suffix", Value: ".png" }] } } }]);
      expect(got.LambdaFunctionConfigurations).toEqual([{ Id: "removals", LambdaFunctionArn: fn.url, Events: ["s3:ObjectRemoved:*", "s3:ObjectTagging:Put"] }]);
      expect(got.EventBridgeConfiguration).toEqual({});

      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "images/a b.png", Body: "png!" }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "docs/b.png", Body: "not an image path" }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "images/c.txt", Body: "wrong suffix" }));
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "images/copy.png", CopySource: `${bucket}/images/a b.png` }));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "images/big.png" }));
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "images/big.png", UploadId, PartNumber: 1, Body: "one part" }));
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "images/big.png", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: "docs/b.png", Tagging: { TagSet: [{ Key: "k", Value: "v" }] } }));
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "images/a b.png" }));
      // Nothing arrives before the run clock lets the outbox deliver.
      await advance(run, "1s");

      // The queue: S3's test event when configured, then its matching creations, in order.
      const bodies = queue.got.map((g) => JSON.parse(g.body) as { Event?: string; Bucket?: string; Records?: S3Record[] });
      expect(bodies[0]).toMatchObject({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: bucket });
      const created = bodies.slice(1).map((b) => b.Records![0]);
      expect(created.map((r) => [r.eventName, r.s3.object.key])).toEqual([
        ["ObjectCreated:Put", "images/a+b.png"], ["ObjectCreated:Copy", "images/copy.png"], ["ObjectCreated:CompleteMultipartUpload", "images/big.png"],
      ]);
      expect(created[0]).toMatchObject({ eventSource: "aws:s3", s3: { configurationId: "images", bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { size: 4, eTag: put.ETag!.replace(/"/g, "") } } });
      expect(created[2].s3.object.eTag).toMatch(/^[0-9a-f]{32}-1$/);

      // The function (a URL here): the tagging and the removal, not the creations.
      expect(fn.got.map((g) => (JSON.parse(g.body) as { Records: S3Record[] }).Records[0]).map((r) => [r.eventName, r.s3.object.key, r.s3.configurationId])).toEqual([
        ["ObjectTagging:Put", "docs/b.png", "removals"], ["ObjectRemoved:Delete", "images/a+b.png", "removals"],
      ]);
      // EventBridge gets every creation and deletion, in its own shape.
      const events = bridge.got.map((g) => JSON.parse(g.body) as { source: string; "detail-type": string; detail: { object: { key: string } } });
      expect(events.every((e) => e.source === "aws.s3")).toBe(true);
      expect(events.filter((e) => e["detail-type"] === "Object Created").map((e) => e.detail.object.key)).toEqual(["images/a b.png", "docs/b.png", "images/c.txt", "images/copy.png", "images/big.png"]);
      expect(events.filter((e) => e["detail-type"] === "Object Deleted").map((e) => e.detail.object.key)).toEqual(["images/a b.png"]);

      // An empty configuration turns notifications off.
      await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: {} }));
      const before = queue.got.length + fn.got.length + bridge.got.length;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "images/late.png", Body: "x" }));
      await advance(run, "1s");
      expect(queue.got.length + fn.got.length + bridge.got.length).toBe(before);
    } finally {
      await Promise.all([queue.close(), fn.close(), bridge.close()]);
    }
  });
});
