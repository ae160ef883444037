import assert from "node:assert/strict";
import { test } from "node:test";

import { RecordingUploader, nextSegment, splitBlob } from "../../static/interview/recording-parts.js";

globalThis.window = { location: { href: "http://127.0.0.1/interview/x" } };

test("a new page records the segment after the highest one the server holds", () => {
  assert.equal(nextSegment({ segments: [] }), 0);
  assert.equal(nextSegment({ segments: [{ segment: 0 }, { segment: 3 }, { segment: 1 }] }), 4);
  assert.equal(nextSegment(null), 0);
});

test("a blob over the part limit is split into pieces that concatenate to it", async () => {
  const blob = new Blob([new Uint8Array(25).map((_, i) => i)]);
  const pieces = splitBlob(blob, 10);
  assert.deepEqual(pieces.map((p) => p.size), [10, 10, 5]);
  const joined = new Uint8Array(await new Blob(pieces).arrayBuffer());
  assert.deepEqual([...joined], [...new Uint8Array(25).map((_, i) => i)]);
});

test("parts are PUT in order as they fill, retried after a failure, then completed", async () => {
  const calls = [];
  let failOnce = true;
  globalThis.fetch = async (url, init = {}) => {
    const method = init.method || "GET";
    calls.push(`${method} ${new URL(url).pathname}`);
    if (method === "GET") return new Response(JSON.stringify({ segments: [{ segment: 0 }] }));
    if (method === "PUT" && failOnce) {
      failOnce = false;
      throw new TypeError("network down");
    }
    if (method === "PUT") return new Response("{}", { status: 201 });
    assert.deepEqual(JSON.parse(init.body), { parts: 2, session_id: "sess-1" });
    return new Response(JSON.stringify({ status_url: "/api/interviews/7/export" }), { status: 202 });
  };
  const uploader = new RecordingUploader({
    url: "/api/interviews/7/recording",
    token: "t",
    maxPartBytes: 1000,
    partSeconds: 2,
    timesliceMs: 1000,
  });
  uploader.add(new Blob(["a"]));
  uploader.add(new Blob(["b"])); // two slices make one part: it goes up now
  uploader.add(new Blob(["c"])); // the rest goes with finish()
  const answer = await uploader.finish("sess-1");
  assert.equal(answer.status_url, "/api/interviews/7/export");
  assert.deepEqual(calls, [
    "GET /api/interviews/7/recording",
    "PUT /api/interviews/7/recording/1/parts/0",
    "PUT /api/interviews/7/recording/1/parts/0",
    "PUT /api/interviews/7/recording/1/parts/1",
    "POST /api/interviews/7/recording/1/complete",
  ]);
});
