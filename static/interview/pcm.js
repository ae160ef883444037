// Pure audio helpers shared by the page, the capture worklet and the node unit tests.
// No DOM or Web Audio here, so the same code runs in AudioWorkletGlobalScope and in node.

/** Convert float samples in [-1, 1] to signed 16-bit PCM, clamping out-of-range input. */
export function floatToPcm16(input) {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    let s = input[i];
    if (!(s === s)) s = 0; // NaN → silence rather than a click
    if (s > 1) s = 1;
    else if (s < -1) s = -1;
    out[i] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
  }
  return out;
}

/** Convert signed 16-bit PCM to float samples in [-1, 1). */
export function pcm16ToFloat(input) {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const s = input[i];
    out[i] = s < 0 ? s / 0x8000 : s / 0x7fff;
  }
  return out;
}

/** Little-endian bytes of PCM16 samples (explicit, so big-endian hosts would still be right). */
export function pcm16ToBytesLE(samples) {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i], true);
  return bytes;
}

/** PCM16 samples from little-endian bytes. An odd byte count is a broken frame, not audio. */
export function bytesToPcm16LE(bytes) {
  if (bytes.length % 2 !== 0) throw new RangeError(`PCM16 needs an even byte count, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

const PHASES = 1024;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_LOOKUP = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) table[B64.charCodeAt(i)] = i;
  return table;
})();

/** Standard (RFC 4648, padded) base64 of a byte array. Works where btoa does not (worklets). */
export function bytesToBase64(bytes) {
  const parts = [];
  let line = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    line += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
    if (line.length >= 8192) {
      parts.push(line);
      line = "";
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    line += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + "==";
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    line += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + "=";
  }
  parts.push(line);
  return parts.join("");
}

/** Decode standard base64 (padding optional); throws on any character outside the alphabet. */
export function base64ToBytes(text) {
  if (typeof text !== "string") throw new TypeError("base64 input must be a string");
  let end = text.length;
  while (end > 0 && text[end - 1] === "=") end--;
  if (text.length - end > 2 || end % 4 === 1) throw new RangeError("invalid base64 length");
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64_LOOKUP[c] : -1;
    if (v < 0) throw new RangeError(`invalid base64 character at ${i}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Root-mean-square level of float samples (0 for an empty block). */
export function rms(samples) {
  if (!samples.length) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length);
}

/** Map an RMS level to 0..1 for a meter: -60 dBFS and below is 0, 0 dBFS is 1. */
export function meterValue(level) {
  if (!(level > 0)) return 0;
  const db = 20 * Math.log10(level);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/**
 * Streaming windowed-sinc resampler (low-pass + interpolation in one step).
 *
 * Output sample n sits exactly at input position n * inRate / outRate, so it adds no time
 * offset: a chunk's timestamp stays "first output sample / outRate" after the anchor. The
 * cut-off is 0.45 × the lower of the two rates, so everything the target rate cannot carry
 * (e.g. 12–24 kHz when going 48 kHz → 24 kHz) is removed instead of folding back as aliasing.
 */
export class Resampler {
  constructor(inRate, outRate, { halfWidth = 16 } = {}) {
    if (!(inRate > 0) || !(outRate > 0)) throw new RangeError("sample rates must be positive");
    this.inRate = inRate;
    this.outRate = outRate;
    this.step = inRate / outRate; // input samples per output sample
    const down = Math.max(1, this.step);
    this.cutoff = 0.45 / down; // cycles per input sample
    this.half = Math.ceil(halfWidth * down); // input samples each side of the centre
    this.cache = new Map();
    this.reset();
  }

  reset() {
    this.bufStart = -this.half; // absolute index of buf[0]; the stream starts after silence
    this.buf = new Float32Array(this.half); // that leading silence
    this.n = 0; // next output index
    this.fed = 0; // real input samples received
  }

  /** Normalised taps for input indices base-half+1 … base+half at phase q / PHASES. */
  _taps(q) {
    let taps = this.cache.get(q);
    if (taps) return taps;
    const frac = q / PHASES;
    taps = new Float32Array(2 * this.half);
    let norm = 0;
    for (let j = 0; j < taps.length; j++) {
      const h = this._kernel(frac - (j - this.half + 1));
      taps[j] = h;
      norm += h;
    }
    for (let j = 0; j < taps.length; j++) taps[j] /= norm;
    this.cache.set(q, taps);
    return taps;
  }

  _kernel(d) {
    // Blackman-windowed sinc at distance d (input samples) from the centre.
    const x = d / this.half;
    if (x <= -1 || x >= 1) return 0;
    const w = 0.42 + 0.5 * Math.cos(Math.PI * x) + 0.08 * Math.cos(2 * Math.PI * x);
    const a = 2 * this.cutoff * d;
    const sinc = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
    return 2 * this.cutoff * sinc * w;
  }

  /** Feed input samples; returns every output sample that is now fully determined. */
  process(input) {
    this.fed += input.length;
    return this._run(input);
  }

  _run(input) {
    const merged = new Float32Array(this.buf.length + input.length);
    merged.set(this.buf);
    merged.set(input, this.buf.length);
    const available = this.bufStart + merged.length; // absolute index one past the last sample
    const out = [];
    for (;;) {
      // Output n sits at input position n * step; its phase is quantised to 1/1024 sample
      // (about 20 ns at 48 kHz) so each phase's normalised taps are computed once.
      const t = this.n * this.step;
      let base = Math.floor(t);
      let q = Math.round((t - base) * PHASES);
      if (q === PHASES) {
        base += 1;
        q = 0;
      }
      const taps = this._taps(q);
      const lo = base - this.half + 1;
      if (lo + taps.length - 1 >= available) break;
      let acc = 0;
      const off = lo - this.bufStart;
      for (let k = 0; k < taps.length; k++) acc += taps[k] * merged[off + k];
      out.push(acc);
      this.n++;
    }
    // Keep only what the next output still needs.
    const keepFrom = Math.ceil(this.n * this.step) - this.half - 1;
    const drop = Math.max(0, Math.min(merged.length, keepFrom - this.bufStart));
    this.buf = merged.slice(drop);
    this.bufStart += drop;
    return Float32Array.from(out);
  }

  /** Emit the tail by feeding trailing silence, then start over (end of stream). */
  flush() {
    const total = Math.ceil(this.fed / this.step); // outputs the real input accounts for
    const before = this.n;
    const tail = this._run(new Float32Array(this.half + 2));
    this.reset(); // end of stream: the next sample starts a new one
    return tail.slice(0, Math.max(0, total - before));
  }
}

/** One-shot resampling of a whole signal (tests and small buffers). */
export function resample(input, inRate, outRate) {
  if (inRate === outRate) return Float32Array.from(input);
  const r = new Resampler(inRate, outRate);
  const head = r.process(input);
  const tail = r.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/**
 * Collects PCM16 samples into fixed-size chunks. Each chunk carries the index of its first
 * sample since the last reset, which is what turns into its timestamp.
 */
export class Chunker {
  constructor(chunkSamples) {
    if (!(chunkSamples > 0)) throw new RangeError("chunk size must be positive");
    this.size = chunkSamples;
    this.reset();
  }

  reset() {
    this.pending = new Int16Array(this.size);
    this.fill = 0;
    this.emitted = 0; // samples handed out in chunks since the reset
  }

  /** Push PCM16 samples; returns the completed chunks as {offset, samples}. */
  push(samples) {
    const done = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(this.size - this.fill, samples.length - i);
      this.pending.set(samples.subarray(i, i + take), this.fill);
      this.fill += take;
      i += take;
      if (this.fill === this.size) {
        done.push({ offset: this.emitted, samples: this.pending });
        this.emitted += this.size;
        this.pending = new Int16Array(this.size);
        this.fill = 0;
      }
    }
    return done;
  }

  /** Hand out the partial chunk (if any), e.g. at the end of capture. */
  flush() {
    if (!this.fill) return null;
    const chunk = { offset: this.emitted, samples: this.pending.slice(0, this.fill) };
    this.emitted += this.fill;
    this.pending = new Int16Array(this.size);
    this.fill = 0;
    return chunk;
  }
}

/** Average the channels of one render block down to mono. */
export function mixToMono(channels) {
  if (!channels.length) return new Float32Array(0);
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] += ch[i];
  for (let i = 0; i < n; i++) out[i] /= channels.length;
  return out;
}
