// The shift log: a note being written (checked as the Rust side checks it:
// brewdeck_protocol::NoteRequest::check, characters not UTF-16 units) and the recent notes,
// newest first, from the journal. Whether this operator may write is the Rust side's answer
// (`DeskOperator.note`), read from the plant's state, never re-derived here.

import * as backend from "../backend";
import type { EndpointId } from "../generated/protocol";
import { failureText } from "../permission";
import { charCount } from "../shelving";
import { JournalFeed, makeFilter } from "./journal.svelte";

/** The longest note, in characters (brewdeck_protocol::NOTE_MAX_CHARS). */
export const NOTE_MAX = 2000;
/** At most this many endpoints a note is about (brewdeck_protocol::NOTE_MAX_ENDPOINTS). */
export const NOTE_MAX_ENDPOINTS = 20;
/** Recent notes per page. */
export const NOTES_PAGE = 50;

/** Why a note is refused; null when it can be sent. */
export function validateNote(text: string, endpoints: readonly EndpointId[] = []): string | null {
  if (text.trim() === "") return "Write the note first.";
  const n = charCount(text);
  if (n > NOTE_MAX) return `The note is ${n} characters: at most ${NOTE_MAX}.`;
  if (endpoints.length > NOTE_MAX_ENDPOINTS) return `A note is about at most ${NOTE_MAX_ENDPOINTS} endpoints.`;
  return null;
}

/** The note being written and the recent notes. */
export class ShiftLog {
  text = $state("");
  endpoints = $state.raw<EndpointId[]>([]);
  sending = $state(false);
  /** Why the note was refused, here or by the Rust side. */
  error = $state<string | null>(null);
  /** Said once a note is saved, until the next is written. */
  saved = $state(false);
  count = $derived(charCount(this.text));

  /** The recent notes, newest first; new ones come with PLANT_NOTE. */
  readonly feed = new JournalFeed({
    build: (beforeSeq) => makeFilter({ kinds: ["note"], limit: NOTES_PAGE, beforeSeq }),
    follows: () => true,
    events: ["note"],
  });

  start(): Promise<void> {
    return this.feed.start();
  }

  stop(): void {
    this.feed.stop();
  }

  setVisible(visible: boolean): void {
    this.feed.setVisible(visible);
  }

  setText(text: string): void {
    this.text = text;
    this.saved = false;
    if (this.error !== null && validateNote(text, this.endpoints) === null) this.error = null;
  }

  toggleEndpoint(id: EndpointId, on: boolean): void {
    const rest = this.endpoints.filter((e) => e !== id);
    this.endpoints = on ? [...rest, id].slice(0, NOTE_MAX_ENDPOINTS) : rest;
  }

  /** Sends the note; true once it is saved. A note kept on this desk only brings no event:
   * the list is asked again either way. */
  async submit(): Promise<boolean> {
    const refused = validateNote(this.text, this.endpoints);
    if (refused) {
      this.error = refused;
      return false;
    }
    this.sending = true;
    this.error = null;
    this.saved = false;
    try {
      await backend.writeNote(this.text.trim(), [...this.endpoints]);
    } catch (e) {
      this.error = failureText("Not saved", e);
      return false;
    } finally {
      this.sending = false;
    }
    this.text = "";
    this.endpoints = [];
    this.saved = true;
    void this.feed.refresh();
    return true;
  }
}
