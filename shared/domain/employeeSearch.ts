/**
 * Finding employees by what an administrator types: an employee id, a first or last name, an
 * email. Pure: the directory's entries come in, the matches come out. Case- and
 * accent-insensitive (names.ts#foldForSearch).
 */
import type { EmployeeFacts } from './model';
import { foldForSearch } from './names';

/** One employee of the directory's list, with what the member prerequisites need. */
export interface DirectoryEntry {
  employeeId: string;
  firstName: string;
  lastName: string;
  email: string;
  /** Vantagepoint employee Status (A, I, T, or as given) */
  employeeStatus: string;
  user: { username: string; active: boolean } | null;
}

/** An entry with its fields folded once, so a keystroke compares strings and folds nothing. */
export interface IndexedEntry {
  entry: DirectoryEntry;
  id: string;
  first: string;
  last: string;
  email: string;
}

export function indexEntries(entries: readonly DirectoryEntry[]): IndexedEntry[] {
  return entries.map((entry) => ({
    entry,
    id: foldForSearch(entry.employeeId),
    first: foldForSearch(entry.firstName),
    last: foldForSearch(entry.lastName),
    email: foldForSearch(entry.email),
  }));
}

/** The search text as terms: folded, split on white space and commas; empty terms dropped. */
export function searchTerms(text: string): string[] {
  return foldForSearch(text)
    .split(/[\s,;]+/u)
    .filter((t) => t.length > 0);
}

/**
 * How well an entry matches, lower is better; null when it does not match. Every term must occur
 * in the id, a name or the email. The id typed exactly ranks first, then an id prefix, then names
 * that start with the terms (a person typed the start of a name), then any other occurrence.
 */
export function matchRank(item: IndexedEntry, terms: readonly string[]): number | null {
  if (terms.length === 0) return null;
  const fields = [item.id, item.first, item.last, item.email];
  if (!terms.every((t) => fields.some((f) => f.includes(t)))) return null;
  if (terms.length === 1 && item.id === terms[0]) return 0;
  if (terms.length === 1 && item.id.startsWith(terms[0] ?? '')) return 1;
  const words = [...item.first.split(/[\s-]+/u), ...item.last.split(/[\s-]+/u), item.email];
  if (terms.every((t) => words.some((w) => w.startsWith(t)))) return 2;
  return 3;
}

/** The best `top` matches and how many matched in all. */
export function searchEntries(index: readonly IndexedEntry[], text: string, top: number): { items: DirectoryEntry[]; total: number } {
  const terms = searchTerms(text);
  const ranked: Array<{ item: IndexedEntry; rank: number }> = [];
  for (const item of index) {
    const rank = matchRank(item, terms);
    if (rank !== null) ranked.push({ item, rank });
  }
  // Ids typed: in id order; names typed: in name order (last, first), as a directory lists people.
  const byName = (a: IndexedEntry, b: IndexedEntry) => compare(a.last, b.last) || compare(a.first, b.first) || compare(a.id, b.id);
  ranked.sort((a, b) => a.rank - b.rank || (a.rank <= 1 ? compare(a.item.id, b.item.id) : byName(a.item, b.item)));
  return { items: ranked.slice(0, top).map((r) => r.item.entry), total: ranked.length };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The facts the member prerequisites are evaluated on, as far as the list tells them (it exists: it was listed). */
export function entryFacts(entry: DirectoryEntry): EmployeeFacts {
  return {
    employeeId: entry.employeeId,
    exists: true,
    name: `${entry.firstName} ${entry.lastName}`.trim(),
    email: entry.email.trim(),
    employeeStatus: entry.employeeStatus,
    user: entry.user,
  };
}
