// AI voice playback: 24 kHz PCM16 chunks scheduled back to back on the shared AudioContext.
import { base64ToBytes, bytesToPcm16LE, pcm16ToFloat } from "./pcm.js";

/**
 * Where did playback stand at context time `now`? `scheduled` is the list of
 * {seq, start, duration} still queued (context seconds). Returns the chunk being heard and
 * how much of it was played, or — between chunks — the next chunk with 0 ms played, or null
 * when nothing is left to interrupt. Pure, so the barge-in rule has unit tests.
 */
export function findInterruption(scheduled, now) {
  let next = null;
  for (const item of scheduled) {
    const end = item.start + item.duration;
    if (item.start <= now && now < end) {
      return { seq: item.seq, played_ms: Math.max(0, (now - item.start) * 1000) };
    }
    if (item.start > now && (next === null || item.start < next.start)) next = item;
  }
  return next ? { seq: next.seq, played_ms: 0 } : null;
}

/** Start time for a new chunk: right after the previous one, or a small lookahead from now. */
export function nextStartTime(queueEnd, now, lookahead) {
  return Math.max(queueEnd, now + lookahead);
}

export class AudioPlayer {
  /**
   * @param ctx the interview AudioContext
   * @param opts.clockZero () => context time of the interview's zero
   * @param opts.onScheduled (seq, startOnInterviewClock, duration) after each chunk is queued
   */
  constructor(ctx, { sampleRate, lookahead = 0.06, clockZero = () => 0, onScheduled } = {}) {
    this.ctx = ctx;
    this.sampleRate = sampleRate;
    this.lookahead = lookahead;
    this.clockZero = clockZero;
    this.onScheduled = onScheduled || (() => {});
    this.output = ctx.createGain();
    this.output.connect(ctx.destination);
    this.queue = []; // {seq, start, duration, source}
    this.queueEnd = 0;
    this.ignoreThrough = -1; // chunks already discarded by a stop
    this.highestSeq = -1;
  }

  /** Decode and schedule one tts_chunk. Returns its interview-clock start, or null if dropped. */
  playChunk(seq, audioB64) {
    if (seq <= this.ignoreThrough) return null;
    const samples = pcm16ToFloat(bytesToPcm16LE(base64ToBytes(audioB64)));
    if (!samples.length) return null;
    const buffer = this.ctx.createBuffer(1, samples.length, this.sampleRate);
    buffer.copyToChannel(samples, 0);
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.output);
    const start = nextStartTime(this.queueEnd, this.ctx.currentTime, this.lookahead);
    source.start(start);
    const duration = samples.length / this.sampleRate;
    this.queueEnd = start + duration;
    const item = { seq, start, duration, source };
    this.queue.push(item);
    this.highestSeq = Math.max(this.highestSeq, seq);
    source.onended = () => {
      const i = this.queue.indexOf(item);
      if (i >= 0) this.queue.splice(i, 1);
    };
    const startOnClock = start - this.clockZero();
    this.onScheduled(seq, startOnClock, duration);
    return startOnClock;
  }

  /** True while AI audio is playing or queued. */
  get active() {
    return this.queueEnd > this.ctx.currentTime;
  }

  /**
   * Barge-in: silence everything now. Returns {seq, played_ms} for ai_playback_interrupted,
   * or null if nothing was playing or queued.
   */
  stop() {
    const now = this.ctx.currentTime;
    const cut = findInterruption(this.queue, now);
    for (const item of this.queue) {
      item.source.onended = null;
      try {
        item.source.stop();
      } catch {
        // never started or already stopped
      }
      item.source.disconnect();
    }
    this.queue = [];
    this.queueEnd = 0;
    this.ignoreThrough = Math.max(this.ignoreThrough, this.highestSeq);
    return cut;
  }

  /** Resolves when everything queued has been played (or after `maxWaitMs`). */
  drained(maxWaitMs = 30000) {
    const remaining = Math.max(0, this.queueEnd - this.ctx.currentTime);
    const wait = Math.min(maxWaitMs, remaining * 1000 + 50);
    return new Promise((resolve) => setTimeout(resolve, wait));
  }
}
