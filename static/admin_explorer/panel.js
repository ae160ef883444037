// The task panel: every field of the chosen row, and a link to the task's admin change page.
// Focus moves into the panel when it opens and back to the row when it closes.
import { fieldContent } from "./cells.js";

export function createTaskPanel(root, { columns, adminUrl, statusLabels }) {
  const panel = root.querySelector("#task-panel");
  const title = panel.querySelector("#task-panel-title");
  const fields = panel.querySelector("#task-panel-fields");
  const adminLink = panel.querySelector("#task-panel-admin");
  let opener = null;
  let taskId = null;

  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    root.classList.remove("with-panel");
    root.querySelector("tr.is-open")?.classList.remove("is-open");
    taskId = null;
    if (opener?.isConnected) opener.focus();
  }

  function open(row, from) {
    opener = from;
    taskId = row.task_id;
    title.textContent = row.task_name;
    fields.replaceChildren(
      ...columns.flatMap(({ key, label }) => {
        const dt = document.createElement("dt");
        dt.textContent = label;
        const dd = document.createElement("dd");
        dd.dataset.field = key;
        dd.append(fieldContent(key, row, statusLabels));
        return [dt, dd];
      }),
    );
    adminLink.href = adminUrl.replace("{id}", String(row.task_id));
    panel.hidden = false;
    root.classList.add("with-panel");
    panel.focus();
  }

  panel.querySelector("#task-panel-close").addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  return { open, close, get taskId() { return taskId; } };
}
