// The Data Explorer page: renders the list API's answer and keeps every control in the URL.
import { CELL_CLASSES, fieldContent } from "./cells.js";
import { CONFIG } from "./config.js";
import { bindDates } from "./dates.js";
import { FilterMenu } from "./menus.js";
import { createTaskPanel } from "./panel.js";
import { bindPopover } from "./popover.js";
import { bindSavedViews } from "./saved-views.js";
import { emptyState, exportParams, onlyFilterParams, pageParams, stateFromSearch, toggleSort, viewParams } from "./state.js";

const root = document.querySelector(".explorer");
const { urls } = CONFIG;

const $ = (selector) => root.querySelector(selector);
const form = $("#explorer-filters");
const controls = {
  search: $("#f-search"),
  ratingMin: $("#f-rating-min"),
  ratingMax: $("#f-rating-max"),
  pageSize: $("#page-size"),
};
const resultsBox = $(".explorer-results");
const rowsBody = $("#result-rows");
const errorBox = $("#explorer-error");
const countLabel = $("#result-count");
const emptyState$ = $("#empty-state");
const loading = $("#loading-state");
const headers = [...root.querySelectorAll("th[data-column]")];
const columnBoxes = [...root.querySelectorAll("#columns-panel input[name=column]")];

let state = stateFromSearch(location.search);
let lastCount = 0;
let inflight = null;
let searchTimer = null;
let rows = [];

const STATUS_LABELS = Object.fromEntries(
  [...form.querySelectorAll("input[name=status]")].map((input) => [input.value, input.nextElementSibling.textContent]),
);
const dates = bindDates(root, { span: CONFIG.span, onChange: (changes) => update(changes) });
const menus = CONFIG.menus.map(
  ({ param, facet }) =>
    new FilterMenu(root.querySelector(`.filter-menu[data-menu="${param}"]`), {
      facet,
      countsUrl: urls.counts,
      countParams: () => onlyFilterParams(state),
      onChange: (values) => update({ [param]: values }),
    }),
);
const menuFor = Object.fromEntries(CONFIG.menus.map(({ param, facet }, i) => [facet, { param, menu: menus[i] }]));
const panel = createTaskPanel(root, { columns: CONFIG.columns, adminUrl: urls.task_admin, statusLabels: STATUS_LABELS });
bindPopover($("#columns-button"), $("#columns-panel"));
bindSavedViews(root, { url: urls.views, currentQuery: () => viewParams(state).toString() });

function update(changes, { resetPage = true, refetch = true } = {}) {
  state = { ...state, ...changes };
  if (resetPage) state.page = 1;
  const query = viewParams(state).toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history.pushState(null, "", url);
  if (refetch) {
    load();
  } else {
    syncControls();
    renderRows(rows);
  }
}

function syncControls() {
  controls.search.value = state.search;
  controls.ratingMin.value = state.rating_min;
  controls.ratingMax.value = state.rating_max;
  for (const input of form.querySelectorAll("input[name=status]")) input.checked = state.status.includes(input.value);
  for (const input of form.querySelectorAll("input[name=tags_mode]")) input.checked = input.value === state.tags_mode;
  dates.sync(state);
  controls.pageSize.value = String(state.page_size);
  if (controls.pageSize.value !== String(state.page_size)) {
    controls.pageSize.append(new Option(String(state.page_size)));
    controls.pageSize.value = String(state.page_size);
  }
  for (const th of headers) {
    th.hidden = !state.columns.includes(th.dataset.column);
    if (!th.dataset.sort) continue;
    const active = th.dataset.sort === state.sort_by;
    th.setAttribute("aria-sort", active ? (state.sort_dir === "asc" ? "ascending" : "descending") : "none");
    th.classList.toggle("sorted", active);
    th.classList.toggle("ascending", active && state.sort_dir === "asc");
    th.classList.toggle("descending", active && state.sort_dir === "desc");
  }
  for (const box of columnBoxes) box.checked = state.columns.includes(box.value);
  for (const { param, menu } of Object.values(menuFor)) menu.setSelected(state[param]);
  $("#export-csv").href = `${urls.export}?${exportParams(state, "csv")}`;
  $("#export-json").href = `${urls.export}?${exportParams(state, "json")}`;
}

function renderRows(results) {
  rows = results;
  const shown = CONFIG.columns.filter((column) => state.columns.includes(column.key));
  rowsBody.replaceChildren(
    ...results.map((row, index) => {
      const tr = document.createElement("tr");
      tr.dataset.index = String(index);
      tr.classList.toggle("is-open", panel.taskId === row.task_id);
      for (const { key } of shown) {
        const td = document.createElement("td");
        if (CELL_CLASSES[key]) td.className = CELL_CLASSES[key];
        if (key === "task_name") {
          const open = document.createElement("button");
          open.type = "button";
          open.className = "row-open";
          open.textContent = row.task_name;
          td.append(open);
        } else {
          td.append(fieldContent(key, row, STATUS_LABELS));
        }
        tr.append(td);
      }
      return tr;
    }),
  );
}

function renderPager(count) {
  const lastPage = Math.max(1, Math.ceil(count / state.page_size));
  $("#page-info").textContent = `Page ${state.page} of ${lastPage.toLocaleString()}`;
  $("#page-first").disabled = $("#page-prev").disabled = state.page <= 1;
  $("#page-next").disabled = $("#page-last").disabled = state.page >= lastPage;
}

function showError(status, body) {
  let message = `The server answered ${status}.`;
  if (body && typeof body === "object") {
    const parts = Object.entries(body).map(([field, messages]) =>
      field === "detail" ? String(messages) : `${field}: ${[].concat(messages).join(" ")}`,
    );
    if (parts.length) message = parts.join(" · ");
  }
  errorBox.textContent = message;
  errorBox.hidden = false;
}

async function load() {
  syncControls();
  for (const menu of menus) menu.refresh();
  inflight?.abort();
  const controller = new AbortController();
  inflight = controller;
  resultsBox.setAttribute("aria-busy", "true");
  resultsBox.classList.add("is-loading");
  loading.hidden = false;
  try {
    const response = await fetch(`${urls.data}?${pageParams(state)}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller.signal,
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 401) location.assign(`${urls.login}?next=${encodeURIComponent(location.pathname + location.search)}`);
      showError(response.status, body);
      rowsBody.replaceChildren();
      emptyState$.hidden = true;
      countLabel.textContent = "No results: fix the filter named below.";
      renderPager(0);
      return;
    }
    errorBox.hidden = true;
    lastCount = body.count;
    countLabel.textContent = `${body.count.toLocaleString()} task${body.count === 1 ? "" : "s"}`;
    renderRows(body.results);
    emptyState$.hidden = body.results.length > 0;
    renderPager(body.count);
    const { projects, annotators, tags } = body.facets;
    menuFor.projects.menu.setItems(projects.map((p) => ({ value: String(p.id), label: p.title })));
    menuFor.annotators.menu.setItems(annotators.map((a) => ({ value: String(a.id), label: a.name })));
    menuFor.tags.menu.setItems(tags.map((t) => ({ value: t, label: t })));
  } catch (error) {
    if (error.name === "AbortError") return;
    showError("no answer", { detail: `Could not reach the server (${error.message}).` });
    countLabel.textContent = "No results.";
  } finally {
    if (inflight === controller) {
      inflight = null;
      resultsBox.setAttribute("aria-busy", "false");
      resultsBox.classList.remove("is-loading");
      loading.hidden = true;
    }
  }
}

// --- events ---------------------------------------------------------------
controls.search.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => update({ search: controls.search.value }), CONFIG.search_delay_ms);
});
form.addEventListener("change", (event) => {
  const { name } = event.target;
  if (name === "status") {
    update({ status: [...form.querySelectorAll("input[name=status]:checked")].map((input) => input.value) });
  } else if (name === "tags_mode") {
    update({ tags_mode: event.target.value });
  } else if (name === "rating_min" || name === "rating_max") {
    update({ [name]: event.target.value });
  }
});
form.addEventListener("submit", (event) => event.preventDefault());
$("#reset-filters").addEventListener("click", () => {
  const { sort_by, sort_dir, page_size, columns } = state;
  state = { ...emptyState(), sort_by, sort_dir, page_size, columns };
  update({});
});
$("#columns-panel").addEventListener("change", () => {
  const columns = columnBoxes.filter((box) => box.checked).map((box) => box.value);
  update({ columns }, { resetPage: false, refetch: false }); // the same rows, other cells
});
rowsBody.addEventListener("click", (event) => {
  const tr = event.target.closest("tr");
  if (!tr || event.target.closest("a")) return;
  rowsBody.querySelector("tr.is-open")?.classList.remove("is-open");
  tr.classList.add("is-open");
  panel.open(rows[Number(tr.dataset.index)], tr.querySelector(".row-open"));
});
for (const th of root.querySelectorAll("th[data-sort]")) {
  th.tabIndex = 0;
  const sort = () => update(toggleSort(state, th.dataset.sort));
  th.addEventListener("click", sort);
  th.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      sort();
    }
  });
}
const lastPage = () => Math.max(1, Math.ceil(lastCount / state.page_size));
$("#page-first").addEventListener("click", () => update({ page: 1 }, { resetPage: false }));
$("#page-prev").addEventListener("click", () => update({ page: Math.max(1, state.page - 1) }, { resetPage: false }));
$("#page-next").addEventListener("click", () => update({ page: Math.min(lastPage(), state.page + 1) }, { resetPage: false }));
$("#page-last").addEventListener("click", () => update({ page: lastPage() }, { resetPage: false }));
controls.pageSize.addEventListener("change", () => update({ page_size: Number(controls.pageSize.value) }));
window.addEventListener("popstate", () => {
  state = stateFromSearch(location.search);
  load();
});

load();
