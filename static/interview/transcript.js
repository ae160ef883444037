// Live transcript model: partial lines per role, replaced in place by the final text.

const ROLE_ALIASES = { assistant: "interviewer", ai: "interviewer", user: "candidate" };

export function normaliseRole(role) {
  const r = String(role || "").toLowerCase();
  return ROLE_ALIASES[r] || (r === "candidate" || r === "interviewer" ? r : "interviewer");
}

/**
 * Applies `transcript {role, text, final}` messages. Each role has at most one open partial
 * line; a partial updates it, a final closes it (or adds a new finished line).
 * `apply` returns {entry, created} so a view can add or update one element.
 */
export class TranscriptLog {
  constructor() {
    this.entries = []; // {id, role, text, final}
    this.open = new Map(); // role → entry still partial
    this.nextId = 1;
  }

  apply({ role, text, final }) {
    const who = normaliseRole(role);
    const body = typeof text === "string" ? text : "";
    let entry = this.open.get(who);
    let created = false;
    if (!entry) {
      if (final && !body.trim()) return null; // an empty final with nothing to close
      entry = { id: this.nextId++, role: who, text: "", final: false };
      this.entries.push(entry);
      created = true;
    }
    entry.text = body;
    entry.final = !!final;
    if (entry.final) this.open.delete(who);
    else this.open.set(who, entry);
    return { entry, created };
  }

  /**
   * A caption delta: words as they are spoken or recognised, added to the role's open line.
   * The final `transcript` message for that line then replaces the text with the stored one.
   */
  appendDelta({ role, delta }) {
    if (typeof delta !== "string" || !delta) return null;
    const who = normaliseRole(role);
    const open = this.open.get(who);
    return this.apply({ role: who, text: (open ? open.text : "") + delta, final: false });
  }
}
