import assert from "node:assert/strict";
import { mock, test } from "node:test";

import {
  MicOutbox,
  SessionClient,
  backoffDelay,
  websocketUrl,
} from "../../static/interview/session-client.js";

test("backoff doubles from 0.5 s, caps at 8 s, jitter stays within ±20 %", () => {
  const mid = { random: () => 0.5 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, mid)),
    [500, 1000, 2000, 4000, 8000, 8000, 8000],
  );
  assert.equal(backoffDelay(3, { random: () => 0 }), 1600);
  assert.equal(backoffDelay(3, { random: () => 0.999999 }), 2400);
});

test("websocketUrl follows the page scheme", () => {
  assert.equal(websocketUrl("/ws/session", { protocol: "http:", host: "a:8000" }), "ws://a:8000/ws/session");
  assert.equal(websocketUrl("/ws/session", { protocol: "https:", host: "b" }), "wss://b/ws/session");
});

function chunk(seq) {
  return { seq, audio_b64: `A${seq}`, timestamp: seq / 10 };
}

test("MicOutbox sends each chunk once and resends from resume_from_seq", () => {
  const box = new MicOutbox();
  for (let s = 0; s < 5; s++) box.add(chunk(s));
  assert.deepEqual(box.takeUnsent().map((c) => c.seq), [0, 1, 2, 3, 4]);
  assert.deepEqual(box.takeUnsent(), []);
  box.add(chunk(5));
  box.resumeFrom(3); // the server had 0..2
  assert.deepEqual(box.takeUnsent().map((c) => c.seq), [3, 4, 5]);
  assert.equal(box.size, 3);
});

test("MicOutbox is bounded and drops the oldest", () => {
  const box = new MicOutbox({ maxChunks: 4 });
  for (let s = 0; s < 3; s++) box.add(chunk(s));
  box.takeUnsent();
  for (let s = 3; s < 7; s++) box.add(chunk(s));
  assert.equal(box.size, 4);
  assert.equal(box.dropped, 3);
  assert.deepEqual(box.takeUnsent().map((c) => c.seq), [3, 4, 5, 6]);
});

/** Minimal stand-in for the browser WebSocket, recording what the client sends. */
class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  serverSends(msg) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  close(code) {
    this.readyState = 3;
    this.onclose?.({ code: code ?? 1000 });
  }
}

// The page gets these from realtime/protocol.py (FINAL_CLOSE_CODES) through its config.
const FINAL_CLOSE_CODES = [1000, 4000, 4401, 4409];

function newClient(extra = {}) {
  FakeSocket.all = [];
  return new SessionClient({
    url: "ws://x/ws/session",
    sessionId: "s-1",
    interviewId: 7,
    token: "tok",
    finalCloseCodes: FINAL_CLOSE_CODES,
    WebSocketImpl: FakeSocket,
    ...extra,
  });
}

test("start handshake, queued events, then a reconnect resends unacknowledged chunks", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const client = newClient();
    const statuses = [];
    client.addEventListener("status", (e) => statuses.push(e.detail.state));
    client.connect();
    const ws1 = FakeSocket.all[0];
    client.sendEvent({ event: "recording_started", timestamp: 0.01 });
    client.sendMicChunk(chunk(0)); // before the socket is even open
    ws1.open();
    assert.deepEqual(ws1.sent, [{ event: "start", session_id: "s-1", interview_id: 7, token: "tok" }]);
    ws1.serverSends({ event: "session_ready", session_id: "s-1", resume_from_seq: 0 });
    assert.deepEqual(
      ws1.sent.slice(1).map((m) => [m.event, m.seq]),
      [["recording_started", undefined], ["mic_chunk", 0]],
    );
    client.sendMicChunk(chunk(1));
    client.sendMicChunk(chunk(2));
    ws1.drop(1006);
    client.sendMicChunk(chunk(3)); // captured while offline
    assert.equal(FakeSocket.all.length, 1);
    mock.timers.tick(10000);
    const ws2 = FakeSocket.all[1];
    ws2.open();
    assert.equal(ws2.sent[0].session_id, "s-1"); // same session id: the server resumes
    ws2.serverSends({ event: "session_ready", session_id: "s-1", resume_from_seq: 2 });
    assert.deepEqual(
      ws2.sent.filter((m) => m.event === "mic_chunk").map((m) => m.seq),
      [2, 3],
    );
    assert.ok(statuses.includes("waiting") && statuses.at(-1) === "connected");
  } finally {
    mock.timers.reset();
  }
});

test("reconnects a limited number of times, then reports failure", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const client = newClient({ maxAttempts: 3 });
    let failed = null;
    client.addEventListener("failed", (e) => (failed = e.detail));
    client.connect();
    for (let i = 0; i < 4; i++) {
      FakeSocket.all.at(-1).drop(1006);
      mock.timers.tick(10000);
    }
    assert.equal(FakeSocket.all.length, 4); // the first try + 3 attempts
    assert.deepEqual(failed, { reason: "unreachable", code: 1006 });
  } finally {
    mock.timers.reset();
  }
});

test("a refusal close code is final (no reconnect)", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const client = newClient();
    let failed = null;
    client.addEventListener("failed", (e) => (failed = e.detail));
    client.connect();
    FakeSocket.all[0].open();
    FakeSocket.all[0].drop(4401);
    mock.timers.tick(60000);
    assert.equal(FakeSocket.all.length, 1);
    assert.equal(failed.code, 4401);
  } finally {
    mock.timers.reset();
  }
});

test("end() sends end and finishes on session_ended without reconnecting", async () => {
  const client = newClient();
  client.connect();
  const ws = FakeSocket.all[0];
  ws.open();
  ws.serverSends({ event: "session_ready", resume_from_seq: 0 });
  const done = client.end();
  assert.deepEqual(ws.sent.at(-1), { event: "end" });
  ws.serverSends({ event: "session_ended", interview_id: 7 });
  await done;
  assert.equal(ws.readyState, 3);
  assert.equal(FakeSocket.all.length, 1);
});

test("messages with a non-JSON or binary body are ignored", () => {
  const client = newClient();
  const seen = [];
  client.addEventListener("message", (e) => seen.push(e.detail.event));
  client.connect();
  const ws = FakeSocket.all[0];
  ws.open();
  ws.onmessage({ data: "{not json" });
  ws.onmessage({ data: new ArrayBuffer(4) });
  ws.serverSends({ event: "transcript", role: "interviewer", text: "Hi", final: true });
  assert.deepEqual(seen, ["transcript"]);
});

test("after end() a dropped connection is not reopened", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const client = newClient();
    client.connect();
    const ws = FakeSocket.all[0];
    ws.open();
    ws.serverSends({ event: "session_ready", resume_from_seq: 0 });
    const done = client.end();
    ws.drop(1011); // the server failed while ending
    mock.timers.tick(60000);
    await done;
    assert.equal(FakeSocket.all.length, 1);
  } finally {
    mock.timers.reset();
  }
});

test("every connection of a session carries its id in the URL, for sticky routing", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const client = newClient({ routingParam: "session", sessionId: "s 1/x" });
    client.connect();
    assert.equal(FakeSocket.all[0].url, "ws://x/ws/session?session=s%201%2Fx");
    FakeSocket.all[0].close(1006);
    mock.timers.tick(20000);
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(FakeSocket.all[1].url, "ws://x/ws/session?session=s%201%2Fx");
    assert.equal(newClient().url, "ws://x/ws/session");
  } finally {
    mock.timers.reset();
  }
});
