// Video upload (XHR, for progress events) and export status polling.

/** Human message for a failed request: the server's {"error": {"message"}} when present. */
export function errorMessageFrom(status, bodyText) {
  try {
    const body = JSON.parse(bodyText);
    const err = body && body.error;
    if (err && typeof err.message === "string" && err.message) return err.message;
    if (typeof err === "string" && err) return err;
    if (body && typeof body.detail === "string") return body.detail;
  } catch {
    // not JSON: fall through to a generic message
  }
  if (status === 0) return "The upload could not reach the server. Check your connection.";
  if (status === 413) return "The recording is larger than the server accepts.";
  if (status === 415) return "The recording format is not supported.";
  if (status === 403) return "This interview link is not valid for uploading.";
  if (status === 404) return "The interview was not found.";
  return `The server answered with an error (HTTP ${status}).`;
}

/** The status URL with the token as a query parameter (keeps any existing query). */
export function statusUrlWithToken(statusUrl, token, base) {
  const url = new URL(statusUrl, base);
  url.searchParams.set("token", token);
  return url.toString();
}

const EXPORT_STATUS_TEXT = {
  queued: "waiting in line",
  waiting_for_audio: "waiting for the interview audio",
  running: "combining your video with the interview audio",
};

/** Candidate-facing words for an export status value. */
export function exportStatusText(status) {
  if (!status) return "waiting";
  return EXPORT_STATUS_TEXT[status] || String(status).replace(/_/g, " ");
}

export class UploadError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/**
 * POST the recording as multipart/form-data. Resolves with the parsed JSON of a 2xx answer;
 * rejects with UploadError carrying the server's message otherwise.
 */
export function uploadVideo({ url, blob, filename, fields, onProgress }) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
    form.append("file", blob, filename);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "text";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total, event.loaded, event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText || "{}"));
        } catch {
          reject(new UploadError("The server's answer to the upload was not understood.", xhr.status));
        }
      } else {
        reject(new UploadError(errorMessageFrom(xhr.status, xhr.responseText), xhr.status));
      }
    };
    xhr.onerror = () => reject(new UploadError(errorMessageFrom(0, ""), 0));
    xhr.onabort = () => reject(new UploadError("The upload was cancelled.", 0));
    xhr.send(form);
  });
}

/**
 * Poll the export status about once a second until it is `done` or `failed` (or the time
 * budget runs out). `onStatus` sees every answer. Resolves with the last status body.
 */
export async function pollExport(statusUrl, token, { onStatus, intervalMs = 1000, timeoutMs = 15 * 60 * 1000 } = {}) {
  const url = statusUrlWithToken(statusUrl, token, window.location.href);
  const deadline = Date.now() + timeoutMs;
  let failures = 0;
  for (;;) {
    let body = null;
    try {
      const res = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
      const text = await res.text();
      if (!res.ok) {
        if (res.status >= 400 && res.status < 500) {
          throw new UploadError(errorMessageFrom(res.status, text), res.status);
        }
        failures++;
      } else {
        body = JSON.parse(text);
        failures = 0;
      }
    } catch (err) {
      if (err instanceof UploadError) throw err;
      failures++;
    }
    if (body) {
      if (onStatus) onStatus(body);
      if (body.status === "done" || body.status === "failed") return body;
    }
    if (failures >= 30) throw new UploadError("Lost contact with the server while it was processing the recording.", 0);
    if (Date.now() > deadline) return body || { status: "timeout" };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
