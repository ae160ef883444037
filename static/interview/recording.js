// The camera recording of the interview: started on the interview clock, stopped at the end.

import { config, logEvent, showError, state, telemetry, ui } from "./page.js";
import { RecordingUploader } from "./recording-parts.js";
import { VideoRecorder, extensionFor } from "./video-recorder.js";

/** Start recording and tell the server where the recording sits on the interview clock. */
export function startRecording(client) {
  telemetry.recordingStarted = null;
  telemetry.mimeType = null;
  try {
    // Parts go up while the interview runs (recording-parts.js); a page load is a new segment.
    const uploader = new RecordingUploader({ ...config.recording, token: config.token });
    state.recorder = new VideoRecorder(state.stream, {
      audioContext: state.ctx,
      clockZero: () => state.zero,
      timesliceMs: config.recording.timesliceMs,
      onData: (piece) => uploader.add(piece),
    });
    const startedAt = state.recorder.start();
    uploader.type = (state.recorder.mimeType || "video/webm").split(";")[0];
    state.uploader = uploader;
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
  const filename = `interview-${interviewId}.${extensionFor(recorder.mimeType)}`;
  return { blob, filename, uploader: state.uploader };
}

/** Drop a recording that must not be kept (the session never started). */
export async function discardRecording() {
  if (state.recorder) await state.recorder.stop();
  state.recorder = null;
  ui.recordingIndicator.hidden = true;
}
