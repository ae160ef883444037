// The Data Explorer page: renders /api/admin/data, keeps every control in the URL.
import { emptyState, exportParams, pageParams, stateFromSearch, toggleSort } from "./state.js";

const root = document.querySelector(".explorer");
const API_URL = root.dataset.apiUrl;
const EXPORT_URL = root.dataset.exportUrl;
const SEARCH_DELAY_MS = 300;

const $ = (selector) => root.querySelector(selector);
const form = $("#explorer-filters");
const controls = {
  search: $("#f-search"),
  project: $("#f-project"),
  annotator: $("#f-annotator"),
  tags: $("#f-tags"),
  ratingMin: $("#f-rating-min"),
  ratingMax: $("#f-rating-max"),
  created: $("#f-created"),
  pageSize: $("#page-size"),
};
const resultsBox = $(".explorer-results");
const rowsBody = $("#result-rows");
const errorBox = $("#explorer-error");
const countLabel = $("#result-count");
const emptyState$ = $("#empty-state");
const loading = $("#loading-state");

let state = stateFromSearch(location.search);
let lastCount = 0;
let inflight = null;
let searchTimer = null;
// Remember labels of selected facet values, so a selection stays visible even when the
// other filters leave no rows carrying it.
const knownLabels = { project: new Map(), annotator: new Map(), tags: new Map() };

const dateFormatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const formatDate = (iso) => (iso ? dateFormatter.format(new Date(iso)) : "");
const STATUS_LABELS = Object.fromEntries(
  [...form.querySelectorAll("input[name=status]")].map((input) => [input.value, input.nextElementSibling.textContent]),
);

const picker = window.flatpickr(controls.created, {
  mode: "range",
  showMonths: 2,
  dateFormat: "Y-m-d",
  allowInput: false,
  onClose(selected, _text, instance) {
    if (selected.length === 1) instance.setDate([selected[0], selected[0]], false);
    const dates = instance.selectedDates.map((date) => instance.formatDate(date, "Y-m-d"));
    update({ created_from: dates[0] ?? "", created_to: dates[1] ?? dates[0] ?? "" });
  },
});

function update(changes, { resetPage = true } = {}) {
  state = { ...state, ...changes };
  if (resetPage) state.page = 1;
  const query = pageParams(state).toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history.pushState(null, "", url);
  load();
}

function selectedValues(select) {
  return [...select.selectedOptions].map((option) => option.value);
}

function syncControls() {
  controls.search.value = state.search;
  controls.ratingMin.value = state.rating_min;
  controls.ratingMax.value = state.rating_max;
  for (const input of form.querySelectorAll("input[name=status]")) input.checked = state.status.includes(input.value);
  for (const input of form.querySelectorAll("input[name=tags_mode]")) input.checked = input.value === state.tags_mode;
  if (state.created_from) picker.setDate([state.created_from, state.created_to || state.created_from], false);
  else picker.clear(false);
  controls.pageSize.value = String(state.page_size);
  if (controls.pageSize.value !== String(state.page_size)) {
    controls.pageSize.append(new Option(String(state.page_size)));
    controls.pageSize.value = String(state.page_size);
  }
  for (const th of root.querySelectorAll("th[data-sort]")) {
    const active = th.dataset.sort === state.sort_by;
    th.setAttribute("aria-sort", active ? (state.sort_dir === "asc" ? "ascending" : "descending") : "none");
    th.classList.toggle("sorted", active);
    th.classList.toggle("ascending", active && state.sort_dir === "asc");
    th.classList.toggle("descending", active && state.sort_dir === "desc");
  }
  fillSelect(controls.project, "project", []);
  fillSelect(controls.annotator, "annotator", []);
  fillSelect(controls.tags, "tags", []);
  updateExportLinks();
}

function fillSelect(select, key, items) {
  for (const { value, label } of items) knownLabels[key].set(value, label);
  const selected = new Set(state[key]);
  const values = new Map(items.map(({ value, label }) => [value, label]));
  for (const value of selected) if (!values.has(value)) values.set(value, knownLabels[key].get(value) ?? `#${value}`);
  select.replaceChildren(
    ...[...values].map(([value, label]) => {
      const option = new Option(label, value, false, selected.has(value));
      return option;
    }),
  );
}

function updateExportLinks() {
  $("#export-csv").href = `${EXPORT_URL}?${exportParams(state, "csv")}`;
  $("#export-json").href = `${EXPORT_URL}?${exportParams(state, "json")}`;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderRows(results) {
  rowsBody.replaceChildren(
    ...results.map((row) => {
      const tr = document.createElement("tr");
      const status = cell("", "status");
      const badge = document.createElement("span");
      badge.className = `status-badge status-${row.status}`;
      badge.textContent = STATUS_LABELS[row.status] ?? row.status;
      status.append(badge);
      const tags = cell("", "tags");
      tags.append(
        ...row.dataset_tags.map((tag) => {
          const span = document.createElement("span");
          span.className = "tag";
          span.textContent = tag;
          return span;
        }),
      );
      tr.append(
        cell(row.task_name, "task-name"),
        status,
        cell(row.quality_rating === null ? "—" : row.quality_rating.toFixed(1), "rating"),
        cell(row.project_title),
        cell(row.dataset_title),
        tags,
        cell(row.annotator_name),
        cell(formatDate(row.created_at), "date"),
        cell(formatDate(row.updated_at), "date"),
      );
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
  inflight?.abort();
  const controller = new AbortController();
  inflight = controller;
  resultsBox.setAttribute("aria-busy", "true");
  resultsBox.classList.add("is-loading");
  loading.hidden = false;
  try {
    const response = await fetch(`${API_URL}?${pageParams(state)}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: controller.signal,
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 401) location.assign(`/admin/login/?next=${encodeURIComponent(location.pathname + location.search)}`);
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
    const facets = body.facets;
    fillSelect(controls.project, "project", facets.projects.map((p) => ({ value: String(p.id), label: p.title })));
    fillSelect(controls.annotator, "annotator", facets.annotators.map((a) => ({ value: String(a.id), label: a.name })));
    fillSelect(controls.tags, "tags", facets.tags.map((t) => ({ value: t, label: t })));
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
  searchTimer = setTimeout(() => update({ search: controls.search.value }), SEARCH_DELAY_MS);
});
for (const [key, select] of [["project", controls.project], ["annotator", controls.annotator], ["tags", controls.tags]]) {
  select.addEventListener("change", () => update({ [key]: selectedValues(select) }));
}
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
$("#f-created-clear").addEventListener("click", () => update({ created_from: "", created_to: "" }));
$("#reset-filters").addEventListener("click", () => {
  const { sort_by, sort_dir, page_size } = state;
  state = { ...emptyState(), sort_by, sort_dir, page_size };
  update({});
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
