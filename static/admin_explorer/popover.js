// A button that shows and hides a panel next to it: Escape or a click elsewhere closes it and
// focus returns to the button, so keyboard users never lose their place.
const open = new Set();

export function bindPopover(button, panel, { onOpen = () => {}, onClose = () => {}, focusOnOpen } = {}) {
  const popover = {
    get isOpen() {
      return !panel.hidden;
    },
    show() {
      for (const other of [...open]) if (other !== popover) other.hide();
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      open.add(popover);
      onOpen();
      (focusOnOpen?.() ?? panel.querySelector("input, button, a"))?.focus();
    },
    hide({ restoreFocus = false } = {}) {
      if (panel.hidden) return;
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      open.delete(popover);
      onClose();
      if (restoreFocus) button.focus();
    },
  };
  button.addEventListener("click", () => (popover.isOpen ? popover.hide() : popover.show()));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      popover.hide({ restoreFocus: true });
    }
  });
  document.addEventListener("click", (event) => {
    if (popover.isOpen && !panel.contains(event.target) && !button.contains(event.target)) popover.hide();
  });
  return popover;
}
