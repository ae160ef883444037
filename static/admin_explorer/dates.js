// The "Created" filter: a two-month range picker that opens on the data (not on today when
// the tasks are older), and presets counted back from today.
const pad = (n) => String(n).padStart(2, "0");
export const isoDay = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

// {created_from, created_to} for a preset button, both days inclusive, in local days.
export function presetRange(button, today = new Date()) {
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  if (button.dataset.quarter) {
    const start = new Date(end.getFullYear(), Math.floor(end.getMonth() / 3) * 3, 1);
    return { created_from: isoDay(start), created_to: isoDay(end) };
  }
  const start = new Date(end);
  start.setDate(start.getDate() - Number(button.dataset.days) + 1);
  return { created_from: isoDay(start), created_to: isoDay(end) };
}

// The month the picker shows first: the newest task's month as the second of the two shown,
// unless that would hide the oldest task's month when all the data fits in two months.
function openingMonth(span) {
  if (!span.newest) return null;
  const newest = new Date(span.newest);
  const first = new Date(newest.getFullYear(), newest.getMonth() - 1, 1);
  const oldest = span.oldest ? new Date(span.oldest) : null;
  if (oldest && oldest > first) return new Date(oldest.getFullYear(), oldest.getMonth(), 1);
  return first;
}

export function bindDates(root, { span, onChange }) {
  const input = root.querySelector("#f-created");
  const presets = [...root.querySelectorAll(".date-presets .preset")];
  const picker = window.flatpickr(input, {
    mode: "range",
    showMonths: 2,
    dateFormat: "Y-m-d",
    allowInput: false,
    onOpen(selected, _text, instance) {
      const month = openingMonth(span);
      if (!selected.length && month) instance.jumpToDate(month);
    },
    onClose(selected, _text, instance) {
      if (selected.length === 1) instance.setDate([selected[0], selected[0]], false);
      const dates = instance.selectedDates.map((date) => instance.formatDate(date, "Y-m-d"));
      onChange({ created_from: dates[0] ?? "", created_to: dates[1] ?? dates[0] ?? "" });
    },
  });
  for (const button of presets) button.addEventListener("click", () => onChange(presetRange(button)));
  root.querySelector("#f-created-clear").addEventListener("click", () => onChange({ created_from: "", created_to: "" }));

  return {
    picker,
    sync(state) {
      if (state.created_from) picker.setDate([state.created_from, state.created_to || state.created_from], false);
      else picker.clear(false);
      for (const button of presets) {
        const range = presetRange(button);
        const active = range.created_from === state.created_from && range.created_to === state.created_to;
        button.setAttribute("aria-pressed", String(active));
      }
    },
  };
}
