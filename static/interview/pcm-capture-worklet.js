// AudioWorklet: microphone → mono 24 kHz PCM16 chunks with timestamps on the AudioContext clock.
//
// Timestamps come from counting emitted samples from an anchor, never from counting chunks:
// the anchor is the context time (currentFrame / sampleRate) of the first non-empty render
// block after "start", and a chunk's time is anchor + (index of its first sample) / targetRate.
// The first blocks of a fresh source can be empty; if the input ever stops and resumes (a gap
// in the block times), the partial chunk is flushed and the count re-anchors, so a gap stays
// a gap on the timeline instead of shifting everything after it.
import { Chunker, Resampler, floatToPcm16, mixToMono, pcm16ToBytesLE, rms } from "./pcm.js";

const GAP_TOLERANCE_S = 0.02;
const LEVEL_INTERVAL_S = 0.05;

class PcmCaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    // The rate and chunk length come from the server's page config, through AudioCapture.
    this.targetRate = opts.targetRate;
    this.chunker = new Chunker(Math.round((this.targetRate * opts.chunkMs) / 1000));
    // sampleRate is the context's rate (a worklet global). Only resample when it differs.
    this.resampler = sampleRate === this.targetRate ? null : new Resampler(sampleRate, this.targetRate);
    this.capturing = false;
    this.anchor = null; // context seconds of the first sample since the last (re-)anchor
    this.consumed = 0; // input frames since the anchor
    this.levelSum = 0;
    this.levelCount = 0;
    this.port.onmessage = (event) => {
      const cmd = event.data && event.data.cmd;
      if (cmd === "start") {
        this._restart();
        this.capturing = true;
      } else if (cmd === "stop") {
        this._flush();
        this.capturing = false;
      }
    };
  }

  _restart() {
    this.anchor = null;
    this.consumed = 0;
    this.chunker.reset();
    if (this.resampler) this.resampler.reset();
  }

  _flush() {
    if (this.anchor === null) return;
    if (this.resampler) this._emit(this.chunker.push(floatToPcm16(this.resampler.flush())));
    const last = this.chunker.flush();
    if (last) this._emit([last]);
    this._restart();
  }

  _emit(chunks) {
    for (const chunk of chunks) {
      const bytes = pcm16ToBytesLE(chunk.samples);
      this.port.postMessage(
        {
          type: "chunk",
          timestamp: this.anchor + chunk.offset / this.targetRate,
          samples: chunk.samples.length,
          level: rms(chunk.samples) / 32768,
          pcm: bytes.buffer,
        },
        [bytes.buffer],
      );
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || !channels.length || !channels[0].length) return true; // empty block
    const mono = mixToMono(channels);

    for (let i = 0; i < mono.length; i++) this.levelSum += mono[i] * mono[i];
    this.levelCount += mono.length;
    if (this.levelCount >= sampleRate * LEVEL_INTERVAL_S) {
      this.port.postMessage({ type: "level", rms: Math.sqrt(this.levelSum / this.levelCount) });
      this.levelSum = 0;
      this.levelCount = 0;
    }

    if (!this.capturing) return true;
    const blockTime = currentFrame / sampleRate;
    if (this.anchor !== null) {
      const expected = this.anchor + this.consumed / sampleRate;
      if (Math.abs(blockTime - expected) > GAP_TOLERANCE_S) this._flush();
    }
    if (this.anchor === null) {
      this.anchor = blockTime;
      this.consumed = 0;
    }
    this.consumed += mono.length;
    const atTarget = this.resampler ? this.resampler.process(mono) : mono;
    this._emit(this.chunker.push(floatToPcm16(atTarget)));
    return true;
  }
}

registerProcessor("pcm-capture", PcmCaptureProcessor);
