import assert from "node:assert/strict";
import { test } from "node:test";

import { MemoryStore, RecordingOutbox } from "../../static/interview/recording-outbox.js";
import {
  RecordingUploader,
  announceRecording,
  leftoverParts,
  nextSegment,
  splitBlob,
} from "../../static/interview/recording-parts.js";

globalThis.window = { location: { href: "http://127.0.0.1/interview/x" } };

test("a new page records the segment after the highest one the server holds", () => {
  assert.equal(nextSegment({ segments: [] }), 0);
  assert.equal(nextSegment({ segments: [{ segment: 0 }, { segment: 3 }, { segment: 1 }] }), 4);
  assert.equal(nextSegment(null), 0);
  // Segments an earlier page load left in this browser's outbox are taken too.
  assert.equal(nextSegment({ segments: [{ segment: 0 }] }, [{ segment: 2 }]), 3);
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

/** A fake server for the recording API: stores parts, lists them, records every call. */
function fakeServer(initial = {}) {
  const stored = new Map(Object.entries(initial).map(([s, parts]) => [Number(s), new Map(parts.map((n) => [n, "?"]))]));
  const calls = [];
  globalThis.fetch = async (url, init = {}) => {
    const method = init.method || "GET";
    const path = new URL(url).pathname;
    calls.push(`${method} ${path}`);
    if (method === "GET") {
      const segments = [...stored].map(([segment, parts]) => ({ segment, parts: [...parts.keys()].sort((a, b) => a - b) }));
      return new Response(JSON.stringify({ segments }));
    }
    const match = path.match(/recording\/(\d+)\/parts\/(\d+)$/);
    if (method === "PUT" && match) {
      const [segment, n] = [Number(match[1]), Number(match[2])];
      if (!stored.has(segment)) stored.set(segment, new Map());
      stored.get(segment).set(n, await init.body.text());
      return new Response("{}", { status: 201 });
    }
    return new Response(JSON.stringify({ status_url: "/api/interviews/7/export" }), { status: 202 });
  };
  return { calls, stored };
}

const options = (outbox, log = () => {}) => ({
  url: "/api/interviews/7/recording",
  token: "t",
  maxPartBytes: 1000,
  partSeconds: 2,
  timesliceMs: 1000,
  outbox,
  log,
});

test("recording_started goes with the segment number once the server's listing is in", async () => {
  fakeServer({ 0: [0, 1], 1: [0] });
  const uploader = new RecordingUploader(options(null));
  const sent = [];
  const message = await announceRecording(uploader, 12.5, (m) => sent.push(m));
  assert.deepEqual(sent, [{ event: "recording_started", timestamp: 12.5, segment: 2 }]);
  assert.equal(message.segment, 2);
});

test("without a segment number (the listing is refused) recording_started still goes", async () => {
  globalThis.fetch = async () => new Response('{"error": {"message": "no"}}', { status: 403 });
  const uploader = new RecordingUploader(options(null));
  const sent = [];
  await announceRecording(uploader, 3.25, (m) => sent.push(m));
  assert.deepEqual(sent, [{ event: "recording_started", timestamp: 3.25 }]);
});

test("every piece waits in the outbox until its part is stored", async () => {
  const server = fakeServer();
  const outbox = new RecordingOutbox(new MemoryStore(), 7);
  const uploader = new RecordingUploader(options(outbox));
  uploader.add(new Blob(["a"]));
  uploader.add(new Blob(["b"])); // part 0, uploaded now
  uploader.add(new Blob(["c"])); // still a piece
  await uploader.segmentReady();
  while (uploader._pumping) await uploader._pumping;
  await uploader._saving;
  assert.equal(server.stored.get(0).get(0), "ab");
  const left = await outbox.leftovers();
  assert.deepEqual(
    left.map((l) => [l.segment, l.parts.map((p) => p.n), l.pieces.map((p) => p.index)]),
    [[0, [], [2]]],
  );
});

test("after a reload the old segment's pieces go up as its last parts, before the new segment", async () => {
  const store = new MemoryStore();
  // The page before the reload: parts 0 and 1 stored, part 2 cut but its PUT never answered,
  // and two pieces after it.
  const before = new RecordingOutbox(store, 7);
  await before.partsCut(0, [{ n: 2, blob: new Blob(["ef"]) }], [4, 5]);
  await before.keepPiece(0, 6, new Blob(["g"]));
  await before.keepPiece(0, 7, new Blob(["h"]));
  await new RecordingOutbox(store, 8).keepPiece(0, 0, new Blob(["another interview"]));
  const server = fakeServer({ 0: [0, 1] });

  const log = [];
  const uploader = new RecordingUploader(options(new RecordingOutbox(store, 7), (what, d) => log.push([what, d])));
  const sent = [];
  await announceRecording(uploader, 40, (m) => sent.push(m));
  assert.equal(sent[0].segment, 1); // the new page load records segment 1
  uploader.add(new Blob(["N"]));
  uploader.add(new Blob(["O"]));
  const answer = await uploader.finish("sess-2");
  assert.equal(answer.status_url, "/api/interviews/7/export");
  assert.deepEqual(server.calls, [
    "GET /api/interviews/7/recording",
    "PUT /api/interviews/7/recording/0/parts/2",
    "PUT /api/interviews/7/recording/0/parts/3",
    "PUT /api/interviews/7/recording/1/parts/0",
    "POST /api/interviews/7/recording/1/complete",
  ]);
  assert.equal(server.stored.get(0).get(2), "ef");
  assert.equal(server.stored.get(0).get(3), "gh");
  assert.equal(server.stored.get(1).get(0), "NO");
  assert.deepEqual(log[0], ["recording_leftovers", { segment: 0, parts: [2, 3], bytes: 4 }]);
  // Everything of interview 7 is on the server: its outbox is empty, another interview's is not.
  assert.deepEqual(await new RecordingOutbox(store, 7).leftovers(), []);
  assert.equal((await new RecordingOutbox(store, 8).leftovers()).length, 1);
});

test("a reload before any part was stored: the old pieces become part 0 and the new page moves on", async () => {
  const store = new MemoryStore();
  await new RecordingOutbox(store, 7).keepPiece(0, 0, new Blob(["x"]));
  const server = fakeServer(); // the server has nothing of segment 0
  const uploader = new RecordingUploader(options(new RecordingOutbox(store, 7)));
  assert.equal(await uploader.segmentReady(), 1); // not 0: that number is the old page's
  await uploader.finish("sess-2");
  assert.equal(server.stored.get(0).get(0), "x");
});

test("an outbox that fails turns itself off with a log line; the upload goes on", async () => {
  const server = fakeServer();
  const broken = {
    write: async () => {
      throw new Error("QuotaExceededError");
    },
    entries: async () => [],
  };
  const log = [];
  const outbox = new RecordingOutbox(broken, 7, (what, d) => log.push([what, d.message]));
  const uploader = new RecordingUploader(options(outbox));
  uploader.add(new Blob(["a"]));
  uploader.add(new Blob(["b"]));
  await uploader.finish("sess-1");
  assert.equal(server.stored.get(0).get(0), "ab");
  assert.deepEqual(log, [["recording_outbox_off", "QuotaExceededError"]]);
  assert.equal(outbox.enabled, false);
});

test("no IndexedDB (private mode, old browser): the outbox is off and says so", async () => {
  const log = [];
  const outbox = await RecordingOutbox.open(7, (what) => log.push(what));
  assert.equal(outbox.enabled, false);
  assert.deepEqual(log, ["recording_outbox_off"]);
  assert.deepEqual(await outbox.leftovers(), []);
});

test("leftover parts are numbered after every part the server or the outbox knows", () => {
  const left = { parts: [{ n: 3, blob: new Blob(["d"]) }], pieces: [{ index: 9, blob: new Blob(["e"]) }] };
  const { parts, cut } = leftoverParts(left, [0, 1, 2, 3, 4], 1000, "video/webm");
  assert.deepEqual(parts.map((p) => p.n), [5]); // part 3 is already stored
  assert.deepEqual(cut.map((p) => p.n), [5]);
});

test("a discarded recording (the session never started) is neither sent nor kept", async () => {
  const server = fakeServer();
  const store = new MemoryStore();
  const uploader = new RecordingUploader(options(new RecordingOutbox(store, 7)));
  uploader.add(new Blob(["a"]));
  await uploader.segmentReady();
  uploader.discard();
  await uploader._saving;
  assert.deepEqual(await new RecordingOutbox(store, 7).leftovers(), []);
  assert.deepEqual(server.calls, ["GET /api/interviews/7/recording"]);
});

test("a finished interview's outbox is emptied, other interviews' are kept", async () => {
  const store = new MemoryStore();
  await new RecordingOutbox(store, 7).keepPiece(0, 0, new Blob(["a"]));
  await new RecordingOutbox(store, 7).partsCut(1, [{ n: 0, blob: new Blob(["b"]) }], []);
  await new RecordingOutbox(store, 8).keepPiece(0, 0, new Blob(["c"]));
  await new RecordingOutbox(store, 7).forgetAll();
  assert.deepEqual(await new RecordingOutbox(store, 7).leftovers(), []);
  assert.equal((await new RecordingOutbox(store, 8).leftovers()).length, 1);
});
