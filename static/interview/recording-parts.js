// Progressive upload of the recording: the recorder's output is cut into parts of a few
// seconds and each part is PUT as soon as it exists, retried with back-off. A page load
// records a new segment. Every piece waits in the outbox (recording-outbox.js) until its part
// is stored, and a page load first uploads what earlier loads left as their segments' last
// parts, so a reload loses at most the piece being recorded at that instant.
// URLs and limits come from the server (config.recording): see docs/architecture.md,
// "Upload and export job".

import { UploadError, errorMessageFrom } from "./uploader.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The next free segment number from the server's listing: one past the highest. */
export function nextSegment(listing, leftovers = []) {
  const segments = (listing && listing.segments) || [];
  const known = [...segments.map((s) => Number(s.segment)), ...leftovers.map((l) => l.segment)];
  return known.reduce((next, segment) => Math.max(next, segment + 1), 0);
}

/**
 * The parts that finish an earlier page load's segment: the parts it cut that the server does
 * not list, then its remaining pieces joined and numbered after every part known.
 * Returns {parts: [{n, blob}], cut: [{n, blob}], pieceIndexes} (`cut` are the new parts).
 */
export function leftoverParts(left, serverParts, maxPartBytes, type) {
  const stored = new Set(serverParts);
  const parts = left.parts.filter((p) => !stored.has(p.n)).sort((a, b) => a.n - b.n);
  const highest = Math.max(-1, ...serverParts, ...left.parts.map((p) => p.n));
  const pieces = [...left.pieces].sort((a, b) => a.index - b.index);
  const cut = [];
  if (pieces.length) {
    const whole = new Blob(pieces.map((p) => p.blob), { type });
    splitBlob(whole, maxPartBytes).forEach((blob, i) => cut.push({ n: highest + 1 + i, blob }));
  }
  return { parts: [...parts, ...cut], cut, pieceIndexes: pieces.map((p) => p.index) };
}

/**
 * Tell the server where the recording sits: `recording_started {timestamp, segment}`, once the
 * uploader knows its segment number (the timestamp stays the recorder's start). Without a
 * segment number (the lookup failed for good) the message goes without it.
 */
export async function announceRecording(uploader, timestamp, send) {
  let segment = null;
  try {
    segment = await uploader.segmentReady();
  } catch {
    // no segment number: the server places the recording as before
  }
  const message = { event: "recording_started", timestamp };
  if (Number.isInteger(segment)) message.segment = segment;
  send(message);
  return message;
}

/** Split `blob` into pieces of at most `maxBytes` (MediaRecorder output concatenates). */
export function splitBlob(blob, maxBytes) {
  if (blob.size <= maxBytes) return [blob];
  const pieces = [];
  for (let offset = 0; offset < blob.size; offset += maxBytes) pieces.push(blob.slice(offset, offset + maxBytes));
  return pieces;
}

export class RecordingUploader {
  /**
   * @param opts.url the interview's recording URL (`/api/interviews/<id>/recording`)
   * @param opts.token the invitation token
   * @param opts.maxPartBytes the server's part limit
   * @param opts.partSeconds how many seconds of recording go into one part
   * @param opts.timesliceMs how often the recorder hands over data
   * @param opts.outbox a RecordingOutbox (or a promise of one); none: pieces live in memory only
   * @param opts.log (what, details) for the page's client log
   */
  constructor({ url, token, maxPartBytes, partSeconds, timesliceMs = 1000, type = "video/webm", outbox = null, log = () => {} }) {
    this.url = url;
    this.token = token;
    this.maxPartBytes = maxPartBytes;
    this.slicesPerPart = Math.max(1, Math.round((partSeconds * 1000) / timesliceMs));
    this.type = type;
    this.log = log;
    this.outbox = null;
    this.segment = null;
    this.nextPart = 0;
    this.nextPiece = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.queue = [];
    this.uploadedBytes = 0;
    this.queuedBytes = 0;
    this.error = null;
    this.onProgress = null;
    this._pumping = null;
    this._ready = this._prepare(outbox);
    this._ready.catch(() => {}); // seen by whoever waits on it (the pump, finish)
    this._saving = this._ready.catch(() => {});
  }

  /** Resolves with this page load's segment number once the server's listing is in. */
  segmentReady() {
    return this._ready.then(() => this.segment);
  }

  _withToken(path) {
    const url = new URL(path, window.location.href);
    url.searchParams.set("token", this.token);
    return url.toString();
  }

  async _prepare(outbox) {
    this.outbox = await Promise.resolve(outbox).catch(() => null);
    const leftovers = this.outbox ? await this.outbox.leftovers() : [];
    const listing = await this._listing();
    this.segment = nextSegment(listing, leftovers);
    const serverParts = new Map(((listing && listing.segments) || []).map((s) => [Number(s.segment), s.parts || []]));
    const queued = [];
    for (const left of leftovers) {
      const { parts, cut, pieceIndexes } = leftoverParts(left, serverParts.get(left.segment) || [], this.maxPartBytes, this.type);
      if (cut.length) this._persist((o) => o.partsCut(left.segment, cut, pieceIndexes));
      for (const { n, blob } of parts) queued.push({ segment: left.segment, n, blob, leftover: true });
      const bytes = parts.reduce((sum, p) => sum + p.blob.size, 0);
      this.log("recording_leftovers", { segment: left.segment, parts: parts.map((p) => p.n), bytes });
    }
    // Earlier segments' last parts go first: they are older, and the export needs them.
    this.queue.unshift(...queued);
    this.queuedBytes += queued.reduce((sum, p) => sum + p.blob.size, 0);
    if (queued.length && !this._pumping) this._startPump();
  }

  async _listing() {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
      try {
        const res = await fetch(this._withToken(this.url), { cache: "no-store" });
        if (res.ok) return await res.json();
        if (res.status >= 400 && res.status < 500) {
          throw new UploadError(errorMessageFrom(res.status, await res.text()), res.status);
        }
      } catch (err) {
        if (err instanceof UploadError) throw err;
      }
      await sleep(delay);
    }
  }

  /** Run an outbox write after the ones before it (and once the segment is known). */
  _persist(write) {
    this._saving = this._saving.then(() => (this.outbox ? write(this.outbox) : null)).catch(() => {});
    return this._saving;
  }

  /** A piece of recording from MediaRecorder's dataavailable. */
  add(blob) {
    if (!blob || !blob.size) return;
    const index = this.nextPiece++;
    this.pending.push({ index, blob });
    this.pendingBytes += blob.size;
    this._persist((o) => o.keepPiece(this.segment, index, blob));
    if (this.pending.length >= this.slicesPerPart || this.pendingBytes >= this.maxPartBytes / 2) this._cut();
  }

  _cut() {
    if (!this.pending.length) return;
    const pieces = this.pending;
    const whole = new Blob(pieces.map((p) => p.blob), { type: this.type });
    this.pending = [];
    this.pendingBytes = 0;
    const cut = splitBlob(whole, this.maxPartBytes).map((blob) => ({ n: this.nextPart++, blob }));
    const indexes = pieces.map((p) => p.index);
    this._persist((o) => o.partsCut(this.segment, cut, indexes));
    for (const part of cut) {
      this.queue.push({ segment: null, ...part });
      this.queuedBytes += part.blob.size;
    }
    if (!this._pumping) this._startPump();
  }

  _startPump() {
    this._pumping = this._pump().finally(() => (this._pumping = null));
  }

  async _pump() {
    try {
      await this._ready;
      while (this.queue.length) {
        const part = this.queue[0];
        const segment = part.segment === null ? this.segment : part.segment;
        try {
          await this._put(segment, part);
        } catch (err) {
          if (!part.leftover) throw err;
          // An earlier segment's part the server will not take (say, the recording is final):
          // nothing can be done with it, so it is dropped, and this segment's upload goes on.
          this.log("recording_leftovers_dropped", { segment, n: part.n, status: err.status, message: err.message });
          this.queue = this.queue.filter((p) => p.segment !== segment);
          this._persist((o) => o.forget(segment));
          continue;
        }
        this.queue.shift();
        this._persist((o) => o.partStored(segment, part.n));
        this.uploadedBytes += part.blob.size;
        if (this.onProgress) this.onProgress(this.uploadedBytes, this.queuedBytes);
      }
    } catch (err) {
      this.error = err;
    }
  }

  async _put(segment, { n, blob }) {
    const url = this._withToken(`${this.url}/${segment}/parts/${n}`);
    for (let delay = 500; ; delay = Math.min(delay * 2, 15000)) {
      try {
        const res = await fetch(url, { method: "PUT", body: blob, headers: { "Content-Type": "application/octet-stream" } });
        if (res.ok) return;
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          throw new UploadError(errorMessageFrom(res.status, await res.text()), res.status);
        }
      } catch (err) {
        if (err instanceof UploadError) throw err;
      }
      await sleep(delay); // offline or a server error: try again, waiting longer each time
    }
  }

  /** The recording is dropped (the session never started): send and keep none of it. */
  discard() {
    this.pending = [];
    this.queue = this.queue.filter((p) => p.leftover);
    this._persist((o) => o.forget(this.segment));
  }

  /**
   * Upload what is left, then complete the segment. Resolves with the server's answer.
   * `onProgress(loaded, total)` counts the bytes still to send when finish() was called.
   */
  async finish(sessionId, onProgress) {
    this._cut();
    const base = this.uploadedBytes;
    this.onProgress = onProgress ? (uploaded, queued) => onProgress(uploaded - base, queued - base) : null;
    await this._ready.catch(() => {});
    while (this._pumping) await this._pumping;
    if (this.error) {
      const err = this.error;
      this.error = null;
      if (this.queue.length) this._startPump();
      throw err;
    }
    await this._ready;
    const res = await fetch(this._withToken(`${this.url}/${this.segment}/complete`), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ parts: this.nextPart, session_id: sessionId }),
    });
    const text = await res.text();
    if (!res.ok) throw new UploadError(errorMessageFrom(res.status, text), res.status);
    await this._persist((o) => o.forget(this.segment));
    return JSON.parse(text || "{}");
  }
}
