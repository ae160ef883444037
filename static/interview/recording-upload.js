// Sending the recording to the server after the interview, with progress, the export
// status, a retry, and a local copy when the upload fails: nothing recorded is lost.

import { config, logEvent, setPhase, showComplete, state, ui } from "./page.js";
import { UploadError, exportStatusText, pollExport, uploadVideo } from "./uploader.js";

export function showUpload() {
  ui.uploadCard.hidden = false;
  ui.uploadCard.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

export function setUploadStatus(text, kind = "") {
  ui.uploadStatus.textContent = text;
  ui.uploadStatus.className = kind;
}

function formatMb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** The interview produced no video: say so, the answers were still received. */
export function reportNothingRecorded() {
  setPhase("done");
  showUpload();
  setUploadStatus("No video was recorded, so there is nothing to upload. Your answers were still received.", "bad");
  showComplete();
}

/** Upload `state.recording` and follow its export; safe to call again for a retry. */
export async function uploadRecording() {
  setPhase("uploading");
  showUpload();
  ui.retry.hidden = true;
  ui.save.hidden = true;
  ui.progress.hidden = false;
  ui.progress.value = 0;
  const { blob, filename } = state.recording;
  setUploadStatus(`Uploading your recording (${formatMb(blob.size)})… Please keep this page open.`);
  try {
    const answer = await uploadVideo({
      url: config.urls.upload,
      blob,
      filename,
      fields: { interview_id: config.interviewId, token: config.token, session_id: state.sessionId },
      onProgress: (fraction, loaded, total) => {
        ui.progress.value = Math.round(fraction * 100);
        setUploadStatus(`Uploading your recording: ${Math.round(fraction * 100)} % (${formatMb(loaded)} of ${formatMb(total)})… Please keep this page open.`);
      },
    });
    ui.progress.value = 100;
    logEvent("upload_done", { bytes: blob.size });
    if (!answer.status_url) {
      setPhase("done");
      setUploadStatus("Your recording was uploaded. Thank you! You can close this page now.", "ok");
      showComplete();
      return;
    }
    setUploadStatus("Upload complete. Preparing your interview recording…");
    ui.progress.removeAttribute("value"); // indeterminate while the server works
    const final = await pollExport(answer.status_url, config.token, {
      onStatus: (body) => {
        logEvent("export_status", { status: body.status });
        if (body.status !== "done" && body.status !== "failed") {
          setUploadStatus(`Upload complete. Preparing your interview recording: ${exportStatusText(body.status)}…`);
        }
      },
    });
    setPhase("done");
    showComplete();
    ui.progress.value = 100;
    if (final.status === "done") {
      setUploadStatus("Done! Your interview has been recorded and saved. Thank you — you can close this page now.", "ok");
    } else if (final.status === "failed") {
      const why = (final.error && (final.error.message || final.error)) || final.message || "";
      setUploadStatus(`Your recording was received, but preparing it failed${why ? `: ${why}` : "."} The hiring team can still see your interview.`, "bad");
    } else {
      setUploadStatus("Your recording was received and is still being prepared. You can close this page now.", "ok");
    }
  } catch (err) {
    const status = err instanceof UploadError ? err.status : 0;
    logEvent("upload_failed", { status, message: err.message });
    setPhase("upload_failed");
    ui.progress.hidden = true;
    const retryable = status === 0 || status >= 500 || status === 408 || status === 429;
    setUploadStatus(
      `The upload failed: ${err.message} ${retryable ? "Try again, or save" : "Please save"} the recording to this computer and send it to the hiring team.`,
      "bad",
    );
    ui.retry.hidden = !retryable;
    // Nothing is lost: the candidate can always keep a local copy.
    if (!ui.save.href) ui.save.href = URL.createObjectURL(blob);
    ui.save.download = filename;
    ui.save.hidden = false;
  }
}
