// The live transcript list: one element per line, updated in place as partials become final.

import { TranscriptLog } from "./transcript.js";

const ROLE_LABEL = { interviewer: "Interviewer", candidate: "You" };

export class TranscriptView {
  constructor(list) {
    this.list = list;
    this.log = new TranscriptLog();
    this.nodes = new Map(); // entry id → <li>, while the entry is still open
  }

  /** Apply a `transcript` message and show it. */
  render(msg) {
    this._show(this.log.apply(msg));
  }

  /** Show a caption delta {role, delta} as it arrives (the line stays open until final). */
  caption(msg) {
    this._show(this.log.appendDelta(msg));
  }

  _show(applied) {
    if (!applied) return;
    const { entry, created } = applied;
    let li = this.nodes.get(entry.id);
    if (created || !li) {
      li = document.createElement("li");
      const role = document.createElement("span");
      role.className = "role";
      role.textContent = ROLE_LABEL[entry.role];
      const text = document.createElement("span");
      text.className = "text";
      li.append(role, text);
      this.list.append(li);
      this.nodes.set(entry.id, li);
    }
    li.className = `${entry.role}${entry.final ? "" : " partial"}`;
    li.querySelector(".text").textContent = entry.text;
    if (entry.final) this.nodes.delete(entry.id);
    this.list.scrollTop = this.list.scrollHeight;
  }
}
