// Camera + microphone recording with MediaRecorder, start-marked on the interview clock.

/**
 * Container/codec preference. H.264 first, so the export can stream-copy the video into the
 * final MP4 instead of re-encoding; in WebM before MP4, because Chromium's MP4 recorder hands
 * its data over only at each key frame (every 3-4 s, whatever the timeslice), so a reload or a
 * crash would lose up to that much, while its WebM recorder hands over every timeslice
 * (measured in Chromium 156). Then VP9 (MP4 can carry it). VP8 cannot go into MP4 without
 * re-encoding, so it is the last resort, followed by whatever the browser picks by default.
 */
export const MIME_PREFERENCE = [
  "video/webm;codecs=h264,opus",
  "video/mp4;codecs=avc1,opus",
  "video/webm;codecs=vp9,opus",
  "video/webm;codecs=vp8,opus",
  "video/webm",
];

/** First supported type from MIME_PREFERENCE, or "" (browser default). */
export function chooseMimeType(isTypeSupported) {
  for (const type of MIME_PREFERENCE) {
    try {
      if (isTypeSupported(type)) return type;
    } catch {
      // a browser that throws on unknown types just doesn't support it
    }
  }
  return "";
}

/** File extension for an upload of this recording type. */
export function extensionFor(mimeType) {
  return /^video\/mp4/i.test(mimeType || "") ? "mp4" : "webm";
}

export class VideoRecorder {
  constructor(stream, { audioContext, clockZero = () => 0, timesliceMs = 1000, onData = null } = {}) {
    if (typeof MediaRecorder === "undefined") throw new Error("This browser cannot record video (no MediaRecorder).");
    this.stream = stream;
    this.ctx = audioContext;
    this.clockZero = clockZero;
    this.timesliceMs = timesliceMs;
    this.onData = onData; // each piece as it is produced (the progressive upload)
    this.mimeType = chooseMimeType((t) => MediaRecorder.isTypeSupported(t));
    this.parts = [];
    this.recorder = null;
    this.startedAt = null;
  }

  /** Start recording; returns the start time on the interview clock. */
  start() {
    const options = { videoBitsPerSecond: 1_000_000, audioBitsPerSecond: 96_000 };
    if (this.mimeType) options.mimeType = this.mimeType;
    this.recorder = new MediaRecorder(this.stream, options);
    this.recorder.ondataavailable = (event) => {
      if (event.data && event.data.size) {
        this.parts.push(event.data);
        if (this.onData) this.onData(event.data);
      }
    };
    // The context time is read in the same synchronous step as start(): measured in Chromium
    // to sit within about ±25 ms of the file's first frame (onstart fires much later).
    this.recorder.start(this.timesliceMs);
    const contextTime = this.ctx.currentTime;
    this.startedAt = contextTime - this.clockZero();
    this.mimeType = this.recorder.mimeType || this.mimeType;
    return this.startedAt;
  }

  /** Hand over what was recorded since the last piece now (the page is about to go away). */
  requestData() {
    if (this.recorder && this.recorder.state === "recording") this.recorder.requestData();
  }

  get recording() {
    return !!this.recorder && this.recorder.state !== "inactive";
  }

  /** Stop and resolve with the whole recording as one Blob. */
  stop() {
    if (!this.recorder) return Promise.resolve(null);
    if (this.recorder.state === "inactive") return Promise.resolve(this._blob());
    return new Promise((resolve) => {
      this.recorder.addEventListener("stop", () => resolve(this._blob()), { once: true });
      this.recorder.stop();
    });
  }

  _blob() {
    return new Blob(this.parts, { type: (this.mimeType || "video/webm").split(";")[0] });
  }
}
