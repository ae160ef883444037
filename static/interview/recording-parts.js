// Progressive upload of the recording: the recorder's output is cut into parts of a few
// seconds and each part is PUT as soon as it exists, retried with back-off, so a crash or a
// reload loses at most the part being recorded. A page load records a new segment.
// URLs and limits come from the server (config.recording): see docs/architecture.md,
// "Upload and export job".

import { UploadError, errorMessageFrom } from "./uploader.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The next free segment number from the server's listing: one past the highest. */
export function nextSegment(listing) {
  const segments = (listing && listing.segments) || [];
  return segments.reduce((next, s) => Math.max(next, Number(s.segment) + 1), 0);
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
   */
  constructor({ url, token, maxPartBytes, partSeconds, timesliceMs = 1000, type = "video/webm" }) {
    this.url = url;
    this.token = token;
    this.maxPartBytes = maxPartBytes;
    this.slicesPerPart = Math.max(1, Math.round((partSeconds * 1000) / timesliceMs));
    this.type = type;
    this.segment = null;
    this.nextPart = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.queue = [];
    this.uploadedBytes = 0;
    this.queuedBytes = 0;
    this.error = null;
    this.onProgress = null;
    this._pumping = null;
    this._ready = this._chooseSegment();
  }

  _withToken(path) {
    const url = new URL(path, window.location.href);
    url.searchParams.set("token", this.token);
    return url.toString();
  }

  async _chooseSegment() {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
      try {
        const res = await fetch(this._withToken(this.url), { cache: "no-store" });
        if (res.ok) {
          this.segment = nextSegment(await res.json());
          return;
        }
        if (res.status >= 400 && res.status < 500) {
          throw new UploadError(errorMessageFrom(res.status, await res.text()), res.status);
        }
      } catch (err) {
        if (err instanceof UploadError) throw err;
      }
      await sleep(delay);
    }
  }

  /** A piece of recording from MediaRecorder's dataavailable. */
  add(blob) {
    if (!blob || !blob.size) return;
    this.pending.push(blob);
    this.pendingBytes += blob.size;
    if (this.pending.length >= this.slicesPerPart || this.pendingBytes >= this.maxPartBytes / 2) this._cut();
  }

  _cut() {
    if (!this.pending.length) return;
    const whole = new Blob(this.pending, { type: this.type });
    this.pending = [];
    this.pendingBytes = 0;
    for (const piece of splitBlob(whole, this.maxPartBytes)) {
      this.queue.push({ n: this.nextPart++, blob: piece });
      this.queuedBytes += piece.size;
    }
    if (!this._pumping) this._pumping = this._pump().finally(() => (this._pumping = null));
  }

  async _pump() {
    try {
      await this._ready;
      while (this.queue.length) {
        const part = this.queue[0];
        await this._put(part);
        this.queue.shift();
        this.uploadedBytes += part.blob.size;
        if (this.onProgress) this.onProgress(this.uploadedBytes, this.queuedBytes);
      }
    } catch (err) {
      this.error = err;
    }
  }

  async _put({ n, blob }) {
    const url = this._withToken(`${this.url}/${this.segment}/parts/${n}`);
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

  /**
   * Upload what is left, then complete the segment. Resolves with the server's answer.
   * `onProgress(loaded, total)` counts the bytes still to send when finish() was called.
   */
  async finish(sessionId, onProgress) {
    this._cut();
    const base = this.uploadedBytes;
    this.onProgress = onProgress ? (uploaded, queued) => onProgress(uploaded - base, queued - base) : null;
    while (this._pumping) await this._pumping;
    if (this.error) {
      const err = this.error;
      this.error = null;
      if (this.queue.length) this._pumping = this._pump().finally(() => (this._pumping = null));
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
    return JSON.parse(text || "{}");
  }
}
