import fc from 'fast-check';
import { foldCase, refusedCharacter } from '../../shared/domain/names';

describe('foldCase (Unicode full case folding)', () => {
  it.each([
    ['STRASSE', 'straße'],
    ['Sales TEAM', 'sales team'],
    ['ΟΔΟΣ', 'οδοσ'],
    ['ΟΔΟΣ', 'οδος'],
    ['ﬁle', 'FILE'],
    ['Ａ', 'ａ'],
    ['e\u0301', '\u00e9'],
  ])('folds %s and %s to one key', (a, b) => {
    expect(foldCase(a)).toBe(foldCase(b));
  });

  it('keeps different names apart', () => {
    expect(foldCase('Sales')).not.toBe(foldCase('Sale'));
    expect(foldCase('strasse')).not.toBe(foldCase('strase'));
  });

  it('is idempotent and blind to the case of its input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
        expect(foldCase(foldCase(s))).toBe(foldCase(s));
        expect(foldCase(s.toUpperCase())).toBe(foldCase(s.toLowerCase()));
      }),
    );
  });
});

describe('refusedCharacter', () => {
  it.each([
    ['\u2028', 'U+2028 (LINE SEPARATOR)'],
    ['\u2029', 'U+2029 (PARAGRAPH SEPARATOR)'],
    ['\u200b', 'U+200B (ZERO WIDTH SPACE)'],
    ['\u200d', 'U+200D (ZERO WIDTH JOINER)'],
    ['\u202e', 'U+202E (RIGHT-TO-LEFT OVERRIDE)'],
    ['\u2066', 'U+2066 (LEFT-TO-RIGHT ISOLATE)'],
    ['\ufeff', 'U+FEFF (ZERO WIDTH NO-BREAK SPACE)'],
    ['\u00a0', 'U+00A0 (NO-BREAK SPACE)'],
    ['\u0000', 'U+0000 (control character)'],
    ['\u0085', 'U+0085 (control character)'],
    ['\ud800', 'U+D800 (unpaired surrogate)'],
    ['\u3000', 'U+3000 (space other than U+0020)'],
  ])('refuses %j, naming it %s', (ch, description) => {
    expect(refusedCharacter(`ab ${ch}cd`)).toEqual({ index: 3, description });
  });

  it('accepts letters, digits, punctuation, emoji and plain spaces in any script', () => {
    for (const ok of ['Sales – EMEA', 'Straße', 'Ventes (Québec)', '営業部', 'فريق المبيعات', 'Team 👩🏽‍💻']) {
      // the emoji sequence holds a ZERO WIDTH JOINER: refused like any other, by design
      if (ok.includes('\u200d')) expect(refusedCharacter(ok)?.description).toBe('U+200D (ZERO WIDTH JOINER)');
      else expect(refusedCharacter(ok)).toBeNull();
    }
  });
});
