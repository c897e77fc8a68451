// Whether an element is on screen, for work worth doing only there (the tiles' sparklines:
// with 500 endpoints most tiles are scrolled away). One IntersectionObserver for the page.
// Where there is none (jsdom), everything counts as on screen.

import type { Attachment } from "svelte/attachments";

type Listener = (visible: boolean) => void;

let observer: IntersectionObserver | null = null;
const listeners = new WeakMap<Element, Listener>();

function shared(): IntersectionObserver | null {
  if (typeof IntersectionObserver === "undefined") return null;
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const e of entries) listeners.get(e.target)?.(e.isIntersecting);
    },
    // A little ahead of scrolling, so a tile is drawn before it shows.
    { rootMargin: "200px 0px" },
  );
  return observer;
}

/** `{@attach onscreen((v) => …)}`: told when the element comes into view and leaves it. */
export function onscreen(listener: Listener): Attachment<Element> {
  return (element) => {
    const io = shared();
    if (!io) {
      listener(true);
      return;
    }
    listeners.set(element, listener);
    io.observe(element);
    return () => {
      io.unobserve(element);
      listeners.delete(element);
    };
  };
}
