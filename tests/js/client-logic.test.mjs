import assert from "node:assert/strict";
import { test } from "node:test";

import { findInterruption, nextStartTime } from "../../static/interview/audio-player.js";
import { describeMediaError, mediaConstraints } from "../../static/interview/devices.js";
import { TranscriptLog, normaliseRole } from "../../static/interview/transcript.js";
import { errorMessageFrom, exportStatusText, statusUrlWithToken } from "../../static/interview/uploader.js";
import { MIME_PREFERENCE, chooseMimeType, extensionFor } from "../../static/interview/video-recorder.js";

test("chunks are scheduled back to back, or after the lookahead when the queue ran dry", () => {
  assert.equal(nextStartTime(10.1, 10.0, 0.06), 10.1); // queue still ahead: no gap
  assert.ok(Math.abs(nextStartTime(9.5, 10.0, 0.06) - 10.06) < 1e-9); // underrun: restart
});

test("findInterruption: the chunk being heard and how much of it", () => {
  const queue = [
    { seq: 4, start: 1.0, duration: 0.1 },
    { seq: 5, start: 1.1, duration: 0.1 },
    { seq: 6, start: 1.2, duration: 0.1 },
  ];
  const cut = findInterruption(queue, 1.125);
  assert.equal(cut.seq, 5);
  assert.ok(Math.abs(cut.played_ms - 25) < 1e-6);
  assert.deepEqual(findInterruption(queue, 0.9), { seq: 4, played_ms: 0 }); // in the lookahead gap
  assert.equal(findInterruption(queue, 1.3), null); // all played
  assert.equal(findInterruption([], 5), null);
});

test("recorder MIME preference: H.264 (WebM, then MP4) first, VP8 last", () => {
  assert.deepEqual(MIME_PREFERENCE.slice(0, 4), [
    "video/webm;codecs=h264,opus",
    "video/mp4;codecs=avc1,opus",
    "video/webm;codecs=vp9,opus",
    "video/webm;codecs=vp8,opus",
  ]);
  assert.equal(chooseMimeType(() => true), "video/webm;codecs=h264,opus");
  assert.equal(chooseMimeType((t) => t.startsWith("video/mp4")), "video/mp4;codecs=avc1,opus");
  assert.equal(chooseMimeType((t) => t.includes("webm")), "video/webm;codecs=h264,opus");
  assert.equal(chooseMimeType((t) => t.includes("vp9") || t.includes("vp8")), "video/webm;codecs=vp9,opus");
  assert.equal(chooseMimeType((t) => t.includes("vp8")), "video/webm;codecs=vp8,opus");
  assert.equal(chooseMimeType(() => false), "");
  assert.equal(
    chooseMimeType((t) => {
      if (t.includes("h264")) throw new Error("unknown");
      return true;
    }),
    "video/mp4;codecs=avc1,opus",
  );
  assert.equal(extensionFor("video/mp4;codecs=avc1,opus"), "mp4");
  assert.equal(extensionFor("video/webm;codecs=vp9,opus"), "webm");
  assert.equal(extensionFor(""), "webm");
});

test("transcript partials are replaced by the final text, per role", () => {
  const log = new TranscriptLog();
  const a = log.apply({ role: "interviewer", text: "Hel", final: false });
  assert.ok(a.created);
  const b = log.apply({ role: "interviewer", text: "Hello there", final: false });
  assert.ok(!b.created && b.entry === a.entry);
  log.apply({ role: "candidate", text: "Hi", final: false });
  const c = log.apply({ role: "interviewer", text: "Hello there.", final: true });
  assert.equal(c.entry, a.entry);
  assert.equal(log.apply({ role: "candidate", text: "Hi, I am Ada.", final: true }).created, false);
  const d = log.apply({ role: "interviewer", text: "Question one?", final: true });
  assert.ok(d.created);
  assert.deepEqual(
    log.entries.map((e) => [e.role, e.text, e.final]),
    [
      ["interviewer", "Hello there.", true],
      ["candidate", "Hi, I am Ada.", true],
      ["interviewer", "Question one?", true],
    ],
  );
  assert.equal(log.apply({ role: "candidate", text: "  ", final: true }), null);
  assert.equal(normaliseRole("assistant"), "interviewer");
  assert.equal(normaliseRole("user"), "candidate");
});

test("media errors become specific, actionable messages", () => {
  const denied = describeMediaError({ name: "NotAllowedError" });
  assert.equal(denied.kind, "denied");
  assert.match(denied.message, /microphone and camera is blocked/);
  assert.match(describeMediaError({ name: "NotAllowedError" }, { micDenied: true, cameraDenied: false }).message, /your microphone is blocked/);
  assert.match(describeMediaError({ name: "NotAllowedError" }, { micDenied: false, cameraDenied: true }).message, /your camera is blocked/);
  assert.match(describeMediaError({ name: "NotFoundError" }, { hasMic: false, hasCamera: true }).message, /^No microphone was found/);
  assert.match(describeMediaError({ name: "NotFoundError" }, { hasMic: true, hasCamera: false }).message, /^No camera was found/);
  assert.match(describeMediaError({ name: "NotFoundError" }, { hasMic: false, hasCamera: false }).message, /No microphone and no camera/);
  assert.equal(describeMediaError({ name: "NotReadableError" }).kind, "busy");
  assert.equal(describeMediaError({ name: "Weird" }).kind, "other");
});

test("voice processing is on by default and off with raw audio", () => {
  const on = mediaConstraints().audio;
  assert.deepEqual([on.echoCancellation, on.noiseSuppression, on.autoGainControl], [true, true, true]);
  const off = mediaConstraints({ raw: true }).audio;
  assert.deepEqual([off.echoCancellation, off.noiseSuppression, off.autoGainControl], [false, false, false]);
});

test("upload errors show the server's message, with sensible fallbacks", () => {
  const body = JSON.stringify({ error: { code: "too_large", message: "The video is larger than 2 GiB." } });
  assert.equal(errorMessageFrom(413, body), "The video is larger than 2 GiB.");
  assert.match(errorMessageFrom(415, "<html>"), /format is not supported/);
  assert.match(errorMessageFrom(0, ""), /could not reach the server/);
  assert.match(errorMessageFrom(502, ""), /HTTP 502/);
});

test("status URL gets the token as a query parameter", () => {
  assert.equal(
    statusUrlWithToken("/api/interviews/3/export", "a:b/c", "http://h:1/interview/x/"),
    "http://h:1/api/interviews/3/export?token=a%3Ab%2Fc",
  );
});

test("export status values read as words", () => {
  assert.equal(exportStatusText("waiting_for_audio"), "waiting for the interview audio");
  assert.equal(exportStatusText("some_new_state"), "some new state");
  assert.equal(exportStatusText(undefined), "waiting");
});

test("question progress: each reply after an answer moves on, a reply to a barge-in does not", async () => {
  const { QuestionProgress } = await import("../../static/interview/progress.js");
  const p = new QuestionProgress(3);
  assert.equal(p.text, "Question 1 of 3");
  p.onReply(); // greeting and the first question
  assert.equal(p.text, "Question 1 of 3");
  p.onReply(); // after the first answer
  assert.equal(p.text, "Question 2 of 3");
  p.onInterrupted(); // "sorry, could you say that again?"
  p.onReply(); // the same question again
  assert.equal(p.text, "Question 2 of 3");
  p.onReply();
  p.onReply(); // the goodbye
  p.onReply();
  assert.equal(p.text, "Question 3 of 3"); // never past the last question
  const resumed = new QuestionProgress(3, { answered: 1 });
  resumed.onReply(); // "welcome back", then the second question
  assert.equal(resumed.current, 2);
  resumed.onFinished();
  assert.equal(resumed.current, 3);
  assert.equal(new QuestionProgress(0).text, "");
});

test("the state line and the timer read as the candidate should see them", async () => {
  const { formatElapsed, stateLine } = await import("../../static/interview/progress.js");
  assert.equal(formatElapsed(0), "0:00");
  assert.equal(formatElapsed(65.9), "1:05");
  assert.equal(formatElapsed(3725), "1:02:05");
  assert.equal(stateLine({ phase: "live", link: "connecting" }), "Connecting…");
  assert.equal(stateLine({ phase: "live", link: "connected", speaking: true }), "The interviewer is speaking");
  assert.equal(stateLine({ phase: "live", link: "connected", speaking: false }), "Your turn: answer out loud");
  assert.equal(stateLine({ phase: "live", link: "waiting", speaking: true }), "Reconnecting…");
  assert.equal(stateLine({ phase: "uploading" }), "Uploading your recording…");
  assert.equal(stateLine({ phase: "done" }), "Done");
  assert.equal(stateLine({ phase: "ready" }), "");
});

test("caption deltas grow the open line and the final text replaces it", () => {
  const log = new TranscriptLog();
  const a = log.appendDelta({ role: "interviewer", delta: "Tell me " });
  assert.ok(a.created && !a.entry.final);
  const b = log.appendDelta({ role: "interviewer", delta: "about it" });
  assert.ok(!b.created && b.entry === a.entry);
  assert.equal(b.entry.text, "Tell me about it");
  assert.equal(log.appendDelta({ role: "interviewer", delta: "" }), null);
  const c = log.apply({ role: "interviewer", text: "Tell me about it.", final: true });
  assert.ok(c.entry === a.entry && c.entry.final);
  assert.equal(log.entries.length, 1);
  const d = log.appendDelta({ role: "interviewer", delta: "Next" });
  assert.ok(d.created); // a new line after the final one
});
