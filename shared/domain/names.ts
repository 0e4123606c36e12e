/**
 * Rules for the names people type (group names, descriptions): what makes two names the same,
 * and which characters a name may not hold. Pure.
 */

/**
 * Unicode full case folding, so `STRASSE`, `Straße` and `strasse` are one name. JavaScript has
 * no casefold; upper-casing applies the full (SpecialCasing) mappings (ß → SS, ﬁ → FI, ŉ → ʼN)
 * and lower-casing then lands on the folded form. Lower-casing gives a word-final sigma its
 * final form (ς), which folding maps to σ. NFC before and after, so composed and decomposed
 * spellings agree.
 */
export function foldCase(value: string): string {
  return value.normalize('NFC').toUpperCase().toLowerCase().replace(/ς/g, 'σ').normalize('NFC');
}

/** Names of the invisible characters people most often paste by accident. */
const CHARACTER_NAMES: Record<number, string> = {
  0x00a0: 'NO-BREAK SPACE',
  0x00ad: 'SOFT HYPHEN',
  0x061c: 'ARABIC LETTER MARK',
  0x180e: 'MONGOLIAN VOWEL SEPARATOR',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2060: 'WORD JOINER',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE',
};

/**
 * Control (Cc), format (Cf: zero-width, bidi controls, soft hyphen), surrogate (Cs), line and
 * paragraph separators (Zl, Zp) and every space but the plain one (Zs): invisible or
 * direction-changing in a grid, and U+2028/U+2029 also break Table Storage batch requests.
 */
const REFUSED = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

function categoryOf(ch: string): string {
  if (/\p{Cc}/u.test(ch)) return 'control character';
  if (/\p{Cf}/u.test(ch)) return 'format character';
  if (/\p{Cs}/u.test(ch)) return 'unpaired surrogate';
  if (/\p{Zl}|\p{Zp}/u.test(ch)) return 'line or paragraph separator';
  return 'space other than U+0020';
}

/** The first refused character of `value`, described as "U+2028 (LINE SEPARATOR)", or null when there is none. */
export function refusedCharacter(value: string): { index: number; description: string } | null {
  let index = 0;
  for (const ch of value) {
    if (REFUSED.test(ch)) {
      const code = ch.codePointAt(0) ?? 0;
      const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      return { index, description: `${hex} (${CHARACTER_NAMES[code] ?? categoryOf(ch)})` };
    }
    index += ch.length;
  }
  return null;
}

/**
 * The form people's search text and directory fields are compared in: case-folded (foldCase) and
 * without accents, so "jose", "JOSÉ" and "Jose\u0301" find José. Accents are the combining marks
 * left after canonical decomposition (NFD); letters that do not decompose (ø, ł, đ) stay as they are.
 */
export function foldForSearch(value: string): string {
  return foldCase(value).normalize('NFD').replace(/\p{M}/gu, '');
}
