import type { Kit } from "./code";

/** A scan made offline, kept on this device until the box office has it. */
export interface PendingScan {
  code: string;
  ticket: string;
  gate: string;
  nonce: string;
  scanned_at: string;
}

/** What this device keeps for one session's door: the kit, the scans it could not send yet, the
 *  tickets it let in (so it refuses a second scan while offline), and what a sync reported. */
export interface DoorBook {
  kit: Kit | null;
  /** What the gate checks in for: the event's name and when its session starts. */
  show: { event: string; startsAt: string } | null;
  pending: PendingScan[];
  letIn: string[];
  conflicts: { ticket: string; gate: string; at: string }[];
}

const EMPTY: DoorBook = { kit: null, show: null, pending: [], letIn: [], conflicts: [] };

function key(session: string): string {
  return `bilheteria.door.${session}`;
}

export function loadBook(session: string, storage: Storage = localStorage): DoorBook {
  try {
    const raw = storage.getItem(key(session));
    return raw ? { ...EMPTY, ...(JSON.parse(raw) as Partial<DoorBook>) } : EMPTY;
  } catch {
    return EMPTY;
  }
}

export function saveBook(session: string, book: DoorBook, storage: Storage = localStorage): void {
  storage.setItem(key(session), JSON.stringify(book));
}

/** The gate this device stands at, kept across sessions. */
export const GATE_KEY = "bilheteria.door.gate";
