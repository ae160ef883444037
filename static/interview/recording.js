// The camera recording of the interview: started on the interview clock, stopped at the end.

import { config, logEvent, showError, state, telemetry, ui } from "./page.js";
import { RecordingOutbox } from "./recording-outbox.js";
import { RecordingUploader, announceRecording } from "./recording-parts.js";
import { VideoRecorder, extensionFor } from "./video-recorder.js";

/** Start recording and tell the server where the recording sits on the interview clock. */
export function startRecording(client) {
  telemetry.recordingStarted = null;
  telemetry.recordingSegment = null;
  telemetry.mimeType = null;
  try {
    // Parts go up while the interview runs (recording-parts.js); a page load is a new segment,
    // and what an earlier load left in the outbox goes up first as its segment's last parts.
    const uploader = new RecordingUploader({
      ...config.recording,
      token: config.token,
      outbox: RecordingOutbox.open(config.interviewId, logEvent),
      log: logEvent,
    });
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
    // The segment number comes from the server's listing: the message goes once it is known.
    announceRecording(uploader, startedAt, (message) => {
      telemetry.recordingSegment = message.segment ?? null;
      logEvent("recording_announced", { segment: message.segment ?? null });
      client.sendEvent(message);
    });
    ui.recordingIndicator.hidden = false;
  } catch (err) {
    state.recorder = null;
    showError(`Video recording could not start (${err.message}). The interview continues with audio only.`);
    logEvent("recording_failed", { message: err.message });
  }
}

/** The page is going away (a reload, a closed tab): hand the piece being recorded to the outbox. */
export function keepLastPiece() {
  if (state.recorder) state.recorder.requestData();
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
  if (state.uploader) state.uploader.discard();
  state.recorder = null;
  state.uploader = null;
  ui.recordingIndicator.hidden = true;
}

/** The interview is over: nothing kept in this browser for it can be uploaded any more. */
export async function forgetKeptRecording() {
  const outbox = await RecordingOutbox.open(config.interviewId, logEvent);
  await outbox.forgetAll();
}
