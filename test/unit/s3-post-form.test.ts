// The S3 POST form reader inside workerd: fields before the file, the file's bytes streamed to the
// closing delimiter, whatever the network's chunking (a delimiter cut anywhere).
import { describe, expect, it } from "vitest";
import { boundaryOf, fileData, readFormHead } from "../../src/vendors/s3/post-form.ts";
import { S3Error } from "../../src/vendors/s3/errors.ts";

const enc = new TextEncoder();
const BOUNDARY = "----WebKitFormBoundaryx7Qe";

function body(fields: [string, string][], file: Uint8Array, after = ""): Uint8Array {
  let head = "";
  for (const [k, v] of fields) head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a \\"b\\".bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${BOUNDARY}${after}--\r\n`;
  const out = new Uint8Array(enc.encode(head).length + file.length + enc.encode(tail).length);
  out.set(enc.encode(head));
  out.set(file, enc.encode(head).length);
  out.set(enc.encode(tail), enc.encode(head).length + file.length);
  return out;
}

/** `bytes` as a stream of chunks of the given sizes, cycled. */
function chunked(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      const n = sizes[i++ % sizes.length];
      c.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

async function parse(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const head = await readFormHead(reader, BOUNDARY);
  const parts: Uint8Array[] = [];
  if (head.file) for await (const p of fileData(head, reader, BOUNDARY)) parts.push(p);
  const size = parts.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { fields: Object.fromEntries(head.fields), file: head.file, data };
}

describe("S3 POST form reader", () => {
  // File bytes that hold near-delimiters: CR LF and dashes, and the boundary without its CR LF.
  const file = enc.encode(`x\r\n--${BOUNDARY.slice(0, 10)}y\r\n-\r--${BOUNDARY}z\r\n`.repeat(50));
  const form = body([["key", "uploads/${filename}"], ["Policy", "eyJ9"], ["x-amz-meta-note", "é ünïcode"]], file);

  for (const sizes of [[1], [7], [3, 64, 1, 1000], [form.length]]) {
    it(`reads fields and the exact file bytes in chunks of ${sizes.join(", ")}`, async () => {
      const r = await parse(chunked(form, sizes));
      expect(r.fields).toEqual({ key: "uploads/${filename}", policy: "eyJ9", "x-amz-meta-note": "é ünïcode" });
      expect(r.file).toEqual({ filename: 'a "b".bin', contentType: "application/octet-stream" });
      expect(r.data).toEqual(file);
    });
  }

  it("finds the boundary of a Content-Type, quoted or not, and nothing in other types", () => {
    expect(boundaryOf(`multipart/form-data; boundary=${BOUNDARY}`)).toBe(BOUNDARY);
    expect(boundaryOf(`Multipart/Form-Data; charset=utf-8; boundary="a b"`)).toBe("a b");
    expect(boundaryOf("application/x-www-form-urlencoded")).toBeNull();
    expect(boundaryOf("multipart/mixed; boundary=x")).toBeNull();
  });

  it("refuses a body that ends before the file's delimiter, and fields past S3's limit", async () => {
    const cut = form.slice(0, form.length - 20);
    await expect(parse(chunked(cut, [100]))).rejects.toMatchObject({ code: "MalformedPOSTRequest" });
    const huge = body([["x-amz-meta-big", "v".repeat(30 * 1024)]], enc.encode("f"));
    const err = await parse(chunked(huge, [4096])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).code).toBe("MaxPostPreDataLengthExceeded");
  });

  it("answers a form without a file part with its fields and no file", async () => {
    const noFile = enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${BOUNDARY}--\r\n`);
    const r = await parse(chunked(noFile, [5]));
    expect(r.fields).toEqual({ key: "k" });
    expect(r.file).toBeNull();
  });
});
