// Keeping the keyboard inside a modal dialog: Tab and Shift+Tab cycle through its enabled
// controls, and focus that escapes anyway (a click outside) is brought back.

const FOCUSABLE = "button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])";

/** The dialog's controls that can take focus now, in order. */
export function focusables(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hasAttribute("disabled"));
}

/** On Tab at either end, wraps around; call from the dialog's keydown handler. */
export function trapTab(event: KeyboardEvent, container: HTMLElement): void {
  if (event.key !== "Tab") return;
  const items = focusables(container);
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) return;
  const active = document.activeElement;
  if (event.shiftKey && (active === first || !container.contains(active))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !container.contains(active))) {
    event.preventDefault();
    first.focus();
  }
}

/** Sends focus that leaves the dialog back to `fallback`; call from its focusout handler. */
export function keepFocusIn(event: FocusEvent, container: HTMLElement, fallback: HTMLElement | undefined): void {
  const next = event.relatedTarget;
  if (next instanceof Node && !container.contains(next)) fallback?.focus();
}
