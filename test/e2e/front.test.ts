// The S3 port's relay follows request framing in whatever pieces TCP delivers: the same requests
// cut at random points come out the same, Expect answered once per request that has a body.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RequestFraming } from "../../src/runner/front.ts";

const head = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

/** Requests as a client sends them, and as workerd should receive them. */
const REQUESTS: { sent: string; passed: string; continues: number }[] = [
  { sent: head(["GET /b/k?X-Amz-Date=1 HTTP/1.1", "Host: h"]), passed: head(["GET /b/k?X-Amz-Date=1 HTTP/1.1", "Host: h"]), continues: 0 },
  {
    sent: head(["PUT /b/k HTTP/1.1", "Host: h", "Content-Length: 5", "Expect: 100-continue"]) + "hello",
    passed: head(["PUT /b/k HTTP/1.1", "Host: h", "Content-Length: 5"]) + "hello",
    continues: 1,
  },
  {
    // A body that looks like a request head must pass as bytes.
    sent: head(["PUT /b/k HTTP/1.1", "Host: h", "content-length: 31"]) + "GET / HTTP/1.1\r\nExpect: 100-c\r\n",
    passed: head(["PUT /b/k HTTP/1.1", "Host: h", "content-length: 31"]) + "GET / HTTP/1.1\r\nExpect: 100-c\r\n",
    continues: 0,
  },
  {
    sent: head(["PUT /b/k HTTP/1.1", "Host: h", "Transfer-Encoding: chunked", "EXPECT: 100-Continue"]) + "3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n",
    passed: head(["PUT /b/k HTTP/1.1", "Host: h", "Transfer-Encoding: chunked"]) + "3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n",
    continues: 1,
  },
  { sent: head(["DELETE /b/k HTTP/1.1", "Host: h", "Content-Length: 0", "Expect: 100-continue"]), passed: head(["DELETE /b/k HTTP/1.1", "Host: h", "Content-Length: 0"]), continues: 0 },
];

describe("the S3 relay's request framing", () => {
  it("passes any sequence of requests, cut anywhere, as workerd should read them", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: REQUESTS.length - 1 }), { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (picks, cuts) => {
        const sent = Buffer.from(picks.map((i) => REQUESTS[i].sent).join(""), "latin1");
        const out: Buffer[] = [];
        const bodies: number[] = [];
        let continues = 0;
        const f = new RequestFraming((b) => out.push(Buffer.from(b)), () => continues++, (n) => bodies.push(n));
        for (let at = 0, i = 0; at < sent.length; i++) {
          const n = cuts[i % cuts.length];
          f.feed(sent.subarray(at, at + n));
          at += n;
        }
        expect(Buffer.concat(out).toString("latin1")).toBe(picks.map((i) => REQUESTS[i].passed).join(""));
        expect(continues).toBe(picks.reduce((s, i) => s + REQUESTS[i].continues, 0));
        expect(bodies.length).toBe(picks.length);
      }),
      { numRuns: 300 },
    );
  });

  it("passes what it cannot follow on raw (an upgrade, a malformed length)", () => {
    const out: Buffer[] = [];
    const f = new RequestFraming((b) => out.push(Buffer.from(b)), () => undefined);
    const bytes = head(["PUT /b/k HTTP/1.1", "Content-Length: 12x", "Expect: 100-continue"]) + "anything\r\n\r\nat all";
    f.feed(Buffer.from(bytes, "latin1"));
    expect(Buffer.concat(out).toString("latin1")).toBe(head(["PUT /b/k HTTP/1.1", "Content-Length: 12x"]) + "anything\r\n\r\nat all");
  });
});
