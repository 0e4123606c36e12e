/**
 * Vantagepoint matches employee keys case-insensitively (`E0060` and `e0060` are one
 * employee), so every id is brought to one spelling before any claim, row or look-up:
 * otherwise one person could hold two claims and join two groups. Ids are ASCII
 * (letters, digits, `_ . -`), so upper-casing is exact. Pure.
 */
export function canonicalEmployeeId(id: string): string {
  return id.toUpperCase();
}
