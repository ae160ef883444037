// What the candidate reads about where the interview stands: which question, what is
// happening right now, and for how long. Pure functions, so they are tested without a page.

/**
 * Question k of n, counted the way the interviewer counts: every reply after an answer asks
 * the next question, except a reply to words said while cutting the interviewer off (it asks
 * the same question again). A page that reloads starts from the answers already given.
 * Replies are seen as they start to play, so the count never waits for a transcript.
 */
export class QuestionProgress {
  constructor(total, { answered = 0 } = {}) {
    this.total = Math.max(0, total);
    this.answered = answered;
    this.replies = 0;
    this.cut = false;
    this.finished = false;
  }

  /** The interviewer starts a new reply. */
  onReply() {
    if (this.replies++ === 0) return; // the first reply asks the first open question
    if (this.cut) this.cut = false;
    else this.answered += 1;
  }

  /** The candidate cut the interviewer off: its next reply asks the same question again. */
  onInterrupted() {
    this.cut = true;
  }

  onFinished() {
    this.finished = true;
  }

  /** 1-based question now being asked or answered, or 0 when there are no questions. */
  get current() {
    if (!this.total) return 0;
    if (this.finished) return this.total;
    return Math.min(this.answered + 1, this.total);
  }

  get text() {
    return this.total ? `Question ${this.current} of ${this.total}` : "";
  }
}

/** m:ss (or h:mm:ss) for a number of seconds. */
export function formatElapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/**
 * The state line: one short sentence for the candidate.
 * `phase` is the page's phase, `link` the connection state ("connecting", "connected",
 * "waiting", "reconnecting", "closed"), `speaking` whether interviewer audio is playing.
 */
export function stateLine({ phase, link, speaking }) {
  if (phase === "idle" || phase === "ready") return "";
  if (phase === "ending") return "Ending the interview…";
  if (phase === "uploading") return "Uploading your recording…";
  if (phase === "upload_failed") return "The upload did not finish";
  if (phase === "done") return "Done";
  if (link === "waiting" || link === "reconnecting") return "Reconnecting…";
  if (link !== "connected") return "Connecting…";
  if (speaking) return "The interviewer is speaking";
  return "Your turn: answer out loud";
}
