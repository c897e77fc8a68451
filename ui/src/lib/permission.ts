// What the operator's role lets this desk offer, as the page says it. The Rust side decides
// (`DeskOperator`, one `Permission` per action); these only read its answers and word them.

import { BackendError } from "./backend";
import type { Shelved } from "./generated/protocol";
import type { DeskOperator, Permission } from "./generated/station";

/** Why an action is not offered; null when it is. */
export function deniedReason(permission: Permission): string | null {
  return permission.kind === "denied" ? permission.reason : null;
}

/** A refusal as the page shows it, next to the control it disables. */
export function notAllowed(reason: string): string {
  return `Not allowed: ${reason}`;
}

/** Why an action cannot be done now, in words: the role's refusal first (it lasts), else
 * why the link blocks it (it passes); null when it can be done. */
export function whyNot(permission: Permission, blocked: string | null): string | null {
  const denied = deniedReason(permission);
  return denied !== null ? notAllowed(denied) : blocked;
}

/** A failed action in words: a `forbidden` refusal plainly ("Not allowed: …"), anything
 * else after `prefix` ("Not acknowledged: …"). */
export function failureText(prefix: string, e: unknown): string {
  if (e instanceof BackendError && e.code === "forbidden") return notAllowed(e.message);
  return `${prefix}: ${e instanceof Error ? e.message : String(e)}`;
}

/** Whether this operator may take an alarm off the shelf: their own shelving with `shelve`,
 * another's only with `unshelveOthers`. (A desk whose server names no one has no "own".) */
export function unshelvePermission(operator: DeskOperator, shelved: Shelved): Permission {
  const own = operator.name !== null && shelved.by === operator.name;
  return own ? operator.shelve : operator.unshelveOthers;
}
