// The device check: open camera and microphone, show the preview and level, and keep the
// audio graph (context + capture) ready for the interview.

import { AudioCapture, createInterviewContext } from "./audio-capture.js";
import { openDevices } from "./devices.js";
import {
  FORCE_RATE,
  RAW_AUDIO,
  config,
  logEvent,
  setDeviceStatus,
  setPhase,
  showError,
  state,
  ui,
  updateStartButton,
} from "./page.js";

export async function releaseDevices() {
  if (state.capture) state.capture.disconnect();
  if (state.ctx) await state.ctx.close().catch(() => {});
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.capture = state.ctx = state.stream = null;
  ui.preview.srcObject = null;
}

/**
 * Ask for the devices and build the audio graph. `onMicChunk` gets every captured chunk;
 * `onLiveTrackEnded(what)` is called when a device goes away during the interview.
 */
export async function checkDevices({ onMicChunk, onLiveTrackEnded }) {
  ui.check.disabled = true;
  showError("");
  setDeviceStatus("Asking for access to your microphone and camera…");
  await releaseDevices();
  try {
    const stream = await openDevices({ raw: RAW_AUDIO });
    state.stream = stream;
    ui.preview.srcObject = stream;
    const { ctx, source } = createInterviewContext(stream, {
      sampleRate: config.audio.sampleRate,
      forceRate: FORCE_RATE,
    });
    state.ctx = ctx;
    // The permission prompt may outlast the click's user activation: then the context stays
    // suspended until the next click (Start resumes it at the latest).
    ctx.resume().catch(() => {});
    document.addEventListener("pointerdown", () => ctx.state === "suspended" && ctx.resume(), { once: true });
    state.capture = new AudioCapture(ctx, source, {
      targetRate: config.audio.sampleRate,
      chunkMs: config.audio.chunkMs,
      clockZero: () => state.zero,
      onLevel: (value) => {
        ui.meter.value = value;
      },
      onChunk: onMicChunk,
    });
    await state.capture.init();
    for (const track of stream.getTracks()) {
      track.addEventListener("ended", () => onTrackEnded(track, onLiveTrackEnded));
    }
    logEvent("devices_ready", { contextRate: ctx.sampleRate, rawAudio: RAW_AUDIO });
    setDeviceStatus("Microphone and camera are working. Say something: the level bar should move.", "ok");
    ui.check.textContent = "Check again";
    setPhase("ready");
  } catch (err) {
    await releaseDevices();
    const message = err.userMessage || `The microphone could not be prepared: ${err.message}`;
    setDeviceStatus(message, "bad");
    logEvent("devices_failed", { name: err.name, message });
    setPhase("idle");
  } finally {
    ui.check.disabled = state.phase !== "idle" && state.phase !== "ready";
    updateStartButton();
  }
}

function onTrackEnded(track, onLiveTrackEnded) {
  const what = track.kind === "audio" ? "microphone" : "camera";
  logEvent("track_ended", { kind: track.kind });
  if (state.phase === "live") {
    onLiveTrackEnded(what);
  } else if (state.phase === "ready") {
    setDeviceStatus(`Your ${what} was disconnected. Reconnect it, then press “Check again”.`, "bad");
    setPhase("idle");
    updateStartButton();
  }
}
