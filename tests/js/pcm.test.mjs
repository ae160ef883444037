import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Chunker,
  Resampler,
  base64ToBytes,
  bytesToBase64,
  bytesToPcm16LE,
  floatToPcm16,
  meterValue,
  mixToMono,
  pcm16ToBytesLE,
  pcm16ToFloat,
  resample,
  rms,
} from "../../static/interview/pcm.js";

function sine(freq, rate, seconds, amp = 0.5) {
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

/** Amplitude of `freq` in `x` (single-bin DFT), ignoring `skip` samples at each end. */
function toneAmplitude(x, freq, rate, skip = 200) {
  let re = 0;
  let im = 0;
  const n = x.length - 2 * skip;
  for (let i = skip; i < x.length - skip; i++) {
    re += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
    im -= x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / n;
}

test("floatToPcm16 scales, rounds and clamps", () => {
  const out = floatToPcm16(Float32Array.from([0, 1, -1, 0.5, -0.5, 2, -3, NaN]));
  assert.deepEqual(Array.from(out), [0, 32767, -32768, 16384, -16384, 32767, -32768, 0]);
});

test("pcm16ToFloat inverts floatToPcm16 within one step", () => {
  const input = Float32Array.from([0, 0.25, -0.25, 0.999, -1]);
  const back = pcm16ToFloat(floatToPcm16(input));
  for (let i = 0; i < input.length; i++) assert.ok(Math.abs(back[i] - input[i]) < 1 / 32767);
});

test("PCM16 bytes are little-endian and round-trip", () => {
  const samples = Int16Array.from([1, -2, 0x1234, -32768, 32767]);
  const bytes = pcm16ToBytesLE(samples);
  assert.deepEqual(Array.from(bytes.subarray(0, 6)), [1, 0, 0xfe, 0xff, 0x34, 0x12]);
  assert.deepEqual(Array.from(bytesToPcm16LE(bytes)), Array.from(samples));
});

test("bytesToPcm16LE rejects an odd byte count", () => {
  assert.throws(() => bytesToPcm16LE(new Uint8Array(3)), RangeError);
});

test("base64 matches Node's encoder for every tail length and round-trips", () => {
  for (let len = 0; len < 40; len++) {
    const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len * 11) & 0xff);
    const ours = bytesToBase64(bytes);
    assert.equal(ours, Buffer.from(bytes).toString("base64"));
    assert.deepEqual(Array.from(base64ToBytes(ours)), Array.from(bytes));
  }
  const big = Uint8Array.from({ length: 48000 }, (_, i) => (i * 7) & 0xff);
  assert.equal(bytesToBase64(big), Buffer.from(big).toString("base64"));
});

test("base64ToBytes refuses characters outside the alphabet and bad lengths", () => {
  assert.throws(() => base64ToBytes("ab$d"), RangeError);
  assert.throws(() => base64ToBytes("abcde"), RangeError);
  assert.throws(() => base64ToBytes("a==="), RangeError);
  assert.deepEqual(Array.from(base64ToBytes("AQI")), [1, 2]);
});

test("rms and meterValue", () => {
  assert.equal(rms(new Float32Array(0)), 0);
  assert.ok(Math.abs(rms(sine(440, 24000, 1, 1)) - Math.SQRT1_2) < 1e-3);
  assert.equal(meterValue(0), 0);
  assert.equal(meterValue(1), 1);
  assert.equal(meterValue(0.001), 0);
  assert.ok(Math.abs(meterValue(0.0316) - 0.5) < 0.01);
});

test("Chunker emits full chunks with sample offsets and keeps the remainder", () => {
  const c = new Chunker(2400);
  assert.deepEqual(c.push(new Int16Array(1000)), []);
  const done = c.push(Int16Array.from({ length: 4000 }, (_, i) => i));
  assert.equal(done.length, 2);
  assert.deepEqual(done.map((d) => d.offset), [0, 2400]);
  assert.equal(done[0].samples.length, 2400);
  assert.equal(done[0].samples[1000], 0); // first sample of the second push
  assert.equal(done[1].samples[0], 1400);
  const rest = c.flush();
  assert.equal(rest.offset, 4800);
  assert.equal(rest.samples.length, 200);
  assert.equal(c.flush(), null);
});

test("Chunker chunks are independent buffers", () => {
  const c = new Chunker(4);
  const [a, b] = c.push(Int16Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.deepEqual(Array.from(a.samples), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(b.samples), [5, 6, 7, 8]);
});

test("mixToMono averages channels", () => {
  const mono = mixToMono([Float32Array.from([1, 0]), Float32Array.from([0, 1])]);
  assert.deepEqual(Array.from(mono), [0.5, 0.5]);
});

test("48 kHz → 24 kHz keeps the length and an in-band tone", () => {
  const input = sine(1000, 48000, 1);
  const out = resample(input, 48000, 24000);
  assert.equal(out.length, 24000);
  assert.ok(Math.abs(toneAmplitude(out, 1000, 24000) - 0.5) < 0.01);
});

test("48 kHz → 24 kHz removes content above the new Nyquist instead of aliasing it", () => {
  // 17 kHz would fold to 7 kHz with naive decimation.
  const input = sine(17000, 48000, 1);
  const out = resample(input, 48000, 24000);
  const folded = toneAmplitude(out, 7000, 24000);
  assert.ok(folded < 0.5 * 0.01, `alias at 7 kHz too strong: ${folded}`); // > 40 dB down
  const naive = Float32Array.from({ length: 24000 }, (_, i) => input[2 * i]);
  assert.ok(toneAmplitude(naive, 7000, 24000) > 0.4); // the test would catch plain decimation
});

test("44.1 kHz → 24 kHz (fractional ratio) keeps tone and timing", () => {
  const out = resample(sine(1000, 44100, 1), 44100, 24000);
  assert.ok(Math.abs(out.length - 24000) <= 1);
  assert.ok(Math.abs(toneAmplitude(out, 1000, 24000) - 0.5) < 0.01);
  // Phase check: output sample n sits at input time n / 24000 (no added delay).
  const reference = sine(1000, 24000, 1);
  let err = 0;
  for (let i = 500; i < 23500; i++) err = Math.max(err, Math.abs(out[i] - reference[i]));
  assert.ok(err < 0.01, `max deviation ${err}`);
});

test("streaming in render-block pieces equals one-shot resampling", () => {
  const input = sine(3000, 48000, 0.5);
  const oneShot = resample(input, 48000, 24000);
  const r = new Resampler(48000, 24000);
  const parts = [];
  for (let i = 0; i < input.length; i += 128) parts.push(r.process(input.subarray(i, i + 128)));
  parts.push(r.flush());
  const streamed = Float32Array.from(parts.flatMap((p) => Array.from(p)));
  assert.equal(streamed.length, oneShot.length);
  for (let i = 0; i < streamed.length; i++) assert.ok(Math.abs(streamed[i] - oneShot[i]) < 1e-6);
});

test("Resampler keeps a bounded history", () => {
  const r = new Resampler(48000, 24000);
  for (let i = 0; i < 2000; i++) r.process(new Float32Array(128));
  assert.ok(r.buf.length < 128 + 2 * r.half + 4, `history grew to ${r.buf.length}`);
});

test("DC passes with unit gain", () => {
  const out = resample(new Float32Array(4800).fill(0.3), 48000, 24000);
  for (let i = 100; i < out.length - 100; i++) assert.ok(Math.abs(out[i] - 0.3) < 1e-3);
});

test("Resampler rejects bad rates", () => {
  assert.throws(() => new Resampler(0, 24000), RangeError);
});
