// Saved views: the user's named page URLs, listed, saved and deleted through the views API.
// A view is the page's own query string, so its link is what a colleague can open too.
import { bindPopover } from "./popover.js";

export function bindSavedViews(root, { url, currentQuery }) {
  const $ = (selector) => root.querySelector(selector);
  const list = $("#views-list");
  const empty = $("#views-empty");
  const form = $("#view-save");
  const nameInput = $("#view-name");
  const errorBox = $("#view-error");
  const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  async function call(target, options = {}) {
    const response = await fetch(target, {
      credentials: "same-origin",
      ...options,
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    });
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, body };
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  async function refresh() {
    const { ok, status, body } = await call(url);
    if (!ok) return showError(`Could not list your views (the server answered ${status}).`);
    list.replaceChildren(
      ...body.map((view) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = view.url;
        link.textContent = view.name;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button view-delete";
        remove.textContent = "Delete";
        remove.setAttribute("aria-label", `Delete the view ${view.name}`);
        remove.addEventListener("click", async () => {
          const answer = await call(`${url}/${view.id}`, { method: "DELETE" });
          if (!answer.ok && answer.status !== 404) return showError(`Could not delete it (the server answered ${answer.status}).`);
          showError("");
          await refresh();
          nameInput.focus();
        });
        item.append(link, remove);
        return item;
      }),
    );
    empty.hidden = body.length > 0;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { ok, status, body } = await call(url, {
      method: "POST",
      body: JSON.stringify({ name: nameInput.value, query: currentQuery() }),
    });
    if (!ok) {
      const messages = body && typeof body === "object" ? Object.values(body).flat() : [];
      return showError(messages.length ? messages.join(" ") : `Could not save (the server answered ${status}).`);
    }
    showError("");
    nameInput.value = "";
    await refresh();
  });

  bindPopover($("#views-button"), $("#views-panel"), { onOpen: refresh, focusOnOpen: () => nameInput });
}
