// The camera recording of the interview: started on the interview clock, stopped at the end.

import { logEvent, showError, state, telemetry, ui } from "./page.js";
import { VideoRecorder, extensionFor } from "./video-recorder.js";

/** Start recording and tell the server where the recording sits on the interview clock. */
export function startRecording(client) {
  telemetry.recordingStarted = null;
  telemetry.mimeType = null;
  try {
    state.recorder = new VideoRecorder(state.stream, { audioContext: state.ctx, clockZero: () => state.zero });
    const startedAt = state.recorder.start();
    telemetry.recordingStarted = startedAt;
    telemetry.mimeType = state.recorder.mimeType;
    logEvent("recording_started", { timestamp: startedAt, mimeType: state.recorder.mimeType });
    client.sendEvent({ event: "recording_started", timestamp: startedAt });
    ui.recordingIndicator.hidden = false;
  } catch (err) {
    state.recorder = null;
    showError(`Video recording could not start (${err.message}). The interview continues with audio only.`);
    logEvent("recording_failed", { message: err.message });
  }
}

/** Stop recording; resolves with {blob, filename}, or null when nothing was recorded. */
export async function stopRecording(interviewId) {
  const recorder = state.recorder;
  const blob = recorder ? await recorder.stop() : null;
  ui.recordingIndicator.hidden = true;
  if (!blob || !blob.size) return null;
  return { blob, filename: `interview-${interviewId}.${extensionFor(recorder.mimeType)}` };
}

/** Drop a recording that must not be kept (the session never started). */
export async function discardRecording() {
  if (state.recorder) await state.recorder.stop();
  state.recorder = null;
  ui.recordingIndicator.hidden = true;
}
