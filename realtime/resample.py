"""Band-limited polyphase resampling: whole signals and streams.

The voice is rendered at eSpeak's rate and sent at 24 kHz; the turn detector and the
speech recogniser listen at 16 kHz. One Kaiser-windowed sinc filter bank serves all of
it. ``StreamResampler`` continues across blocks (the detector gets 100 ms at a time) and
gives exactly what ``resample_pcm16`` gives for the whole signal, in bounded memory.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=8)
def _polyphase_bank(up: int, down: int, half_width: int = 12, beta: float = 8.0) -> np.ndarray:
    """Kaiser-windowed sinc low-pass split into ``up`` phases.

    Cut-off at the lower of the two Nyquist rates, so resampling does not alias.
    """
    factor = max(up, down)
    # Enough taps for ``half_width`` zero crossings of the sinc on each side, also when
    # decimating (down > up), where the cut-off is below the input's Nyquist rate.
    taps_per_phase = 2 * half_width * -(-factor // up)
    n = np.arange(taps_per_phase * up) - (taps_per_phase * up - 1) / 2
    cutoff = 1.0 / factor  # relative to the upsampled Nyquist
    h = cutoff * np.sinc(cutoff * n) * np.kaiser(len(n), beta)
    h *= up / h.sum()  # unity gain at DC after zero-stuffing by ``up``
    # Phase p holds taps h[p], h[p+up], ...: the taps applied to successive input samples.
    return h.reshape(taps_per_phase, up).T.copy()


_BLOCK = 16384  # output samples per step of the whole-signal resampler


def _ratio(rate_in: int, rate_out: int) -> tuple[int, int]:
    g = np.gcd(rate_in, rate_out)
    return rate_out // g, rate_in // g


def resample_pcm16(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited polyphase resampling of int16 mono audio; returns int16.

    Works through the output in blocks, so a minute of speech needs a few MB, not the
    gigabyte a single gather of every output's input window would take.
    """
    if rate_in == rate_out or len(samples) == 0:
        return samples.astype("<i2", copy=True)
    up, down = _ratio(rate_in, rate_out)
    bank = _polyphase_bank(up, down)
    taps = bank.shape[1]
    x = samples.astype(np.float64)
    pad = taps
    xp = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    n_out = int(len(x) * up // down)
    y = np.empty(n_out)
    for first in range(0, n_out, _BLOCK):
        # Positions on the upsampled grid, the filter centred: its group delay there is
        # (taps*up - 1)/2. Output sample = sum_k bank[phase, k] * x[base - k].
        pos = np.arange(first, min(first + _BLOCK, n_out), dtype=np.int64) * down
        pos = pos + (taps * up - 1) // 2
        base = pos // up
        phase = pos % up
        idx = base[:, None] - np.arange(taps)[None, :] + pad
        windows = xp[np.clip(idx, 0, len(xp) - 1)]
        y[first : first + len(pos)] = np.einsum("ij,ij->i", windows, bank[phase])
    return np.clip(np.rint(y), -32768, 32767).astype("<i2")


class StreamResampler:
    """The same filter as ``resample_pcm16``, fed block by block; float32 out (±1.0 full scale).

    Output sample ``m`` needs input up to about ``m * down / up`` plus half the filter,
    so each ``feed`` returns what the input so far determines and keeps the tail it
    still needs (a few dozen samples). ``flush`` ends the stream with silence, as the
    whole-signal function pads its ends.
    """

    def __init__(self, rate_in: int, rate_out: int):
        self.up, self.down = _ratio(rate_in, rate_out)
        self._bank = _polyphase_bank(self.up, self.down).astype(np.float32)
        self._taps = self._bank.shape[1]
        self._delay = (self._taps * self.up - 1) // 2
        self._buffer = np.zeros(0, dtype=np.float32)  # input from global index _buffer_start
        self._buffer_start = 0
        self._received = 0  # input samples fed
        self._produced = 0  # output samples returned
        self._total_out: int | None = None  # set by flush

    def feed_pcm16(self, pcm: bytes) -> np.ndarray:
        return self.feed(np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        samples = np.asarray(samples, dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, samples]) if len(self._buffer) else samples
        self._received += len(samples)
        return self._produce(available=self._received)

    def flush(self) -> np.ndarray:
        """The rest of the output, as if silence followed the last sample."""
        self._total_out = int(self._received * self.up // self.down)
        pad = np.zeros(self._taps, dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, pad])
        return self._produce(available=self._received + self._taps)

    def _produce(self, available: int) -> np.ndarray:
        up, down, taps = self.up, self.down, self._taps
        # Last output whose newest input sample (its ``base``) is already here.
        last = (((available - 1) * up) - self._delay) // down
        if self._total_out is not None:
            last = min(last, self._total_out - 1)
        if last < self._produced:
            return np.zeros(0, dtype=np.float32)
        m = np.arange(self._produced, last + 1, dtype=np.int64)
        pos = m * down + self._delay
        at = pos // up - self._buffer_start  # newest input of each output, in the buffer
        phase = pos % up
        y = np.empty(len(m), dtype=np.float32)
        for p in range(up):
            # One C-level convolution per filter phase; every input an output reaches is
            # still in the buffer (or before the stream began, where it is silence).
            chosen = phase == p
            if chosen.any():
                y[chosen] = np.convolve(self._buffer, self._bank[p])[at[chosen]]
        self._produced = last + 1
        # Keep only what the next outputs can still reach.
        next_base = ((self._produced * down + self._delay) // up) - taps + 1
        drop = max(0, min(next_base - self._buffer_start, len(self._buffer)))
        if drop:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop
        return y
