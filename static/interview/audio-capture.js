// Microphone capture: one MediaStream source into the PCM worklet on the shared AudioContext.
import { bytesToBase64, meterValue } from "./pcm.js";

/**
 * Create the interview AudioContext. Chromium runs a context at 24 kHz and resamples the mic
 * properly; Firefox refuses a mic source on a context whose rate differs from the device, so
 * then we fall back to the default rate and the worklet's own low-pass resampler.
 * `forceRate` (tests only) picks the context rate explicitly to exercise that fallback.
 */
export function createInterviewContext(stream, { sampleRate, forceRate = null }) {
  const attempts = forceRate ? [{ sampleRate: forceRate }] : [{ sampleRate }, {}];
  let lastError = null;
  for (const opts of attempts) {
    let ctx = null;
    try {
      ctx = new AudioContext({ ...opts, latencyHint: "interactive" });
      const source = ctx.createMediaStreamSource(stream);
      return { ctx, source };
    } catch (err) {
      lastError = err;
      if (ctx) ctx.close();
    }
  }
  throw lastError || new Error("No usable AudioContext");
}

/**
 * Runs the capture worklet. Levels flow all the time (device check meter); chunks only
 * between start() and stop(). Chunk timestamps are converted to the interview clock with
 * `clockZero()` (see live-session.js) before they reach `onChunk`.
 */
export class AudioCapture {
  constructor(ctx, source, { targetRate, chunkMs, clockZero = () => 0, onChunk, onLevel }) {
    this.ctx = ctx;
    this.source = source;
    this.targetRate = targetRate;
    this.chunkMs = chunkMs;
    this.clockZero = clockZero;
    this.onChunk = onChunk || (() => {});
    this.onLevel = onLevel || (() => {});
    this.node = null;
    this.capturing = false;
  }

  async init() {
    await this.ctx.audioWorklet.addModule(new URL("./pcm-capture-worklet.js", import.meta.url));
    this.node = new AudioWorkletNode(this.ctx, "pcm-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1, // a silent output keeps the node pulled by the graph
      channelCount: 1,
      channelCountMode: "explicit",
      processorOptions: { targetRate: this.targetRate, chunkMs: this.chunkMs },
    });
    this.node.port.onmessage = (event) => this._onMessage(event.data);
    this.source.connect(this.node);
    this.node.connect(this.ctx.destination);
  }

  _onMessage(msg) {
    if (msg.type === "level") {
      this.onLevel(meterValue(msg.rms), msg.rms);
    } else if (msg.type === "chunk" && this.capturing) {
      const timestamp = Math.max(0, msg.timestamp - this.clockZero());
      this.onChunk({
        timestamp,
        samples: msg.samples,
        audioB64: bytesToBase64(new Uint8Array(msg.pcm)),
        level: msg.level,
      });
    }
  }

  start() {
    this.capturing = true;
    this.node.port.postMessage({ cmd: "start" });
  }

  stop() {
    this.node.port.postMessage({ cmd: "stop" });
    // Let the flushed last chunk arrive, then drop whatever comes after.
    return new Promise((resolve) =>
      setTimeout(() => {
        this.capturing = false;
        resolve();
      }, 150),
    );
  }

  disconnect() {
    try {
      this.source.disconnect();
      if (this.node) this.node.disconnect();
    } catch {
      // already disconnected
    }
  }
}
