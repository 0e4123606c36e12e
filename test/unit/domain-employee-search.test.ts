import fc from 'fast-check';
import { entryFacts, evaluateMember, indexEntries, matchRank, searchEntries, searchTerms, type DirectoryEntry } from '../../shared/domain';
import { foldForSearch } from '../../shared/domain/names';

const entry = (employeeId: string, firstName: string, lastName: string, email = `${firstName}.${lastName}@contoso.test`.toLowerCase()): DirectoryEntry => ({
  employeeId,
  firstName,
  lastName,
  email,
  employeeStatus: 'A',
  user: { username: employeeId.toLowerCase(), active: true },
});

const DIRECTORY = [
  entry('E0001', 'Ada', 'Admin'),
  entry('E0010', 'José', 'Núñez', 'jose.nunez@contoso.test'),
  entry('E0011', 'Zoë', 'Ångström', 'zoe.angstrom@contoso.test'),
  entry('E0100', 'Grete', 'Straße', 'grete.strasse@contoso.test'),
  entry('E0012', 'Joseph', 'Adams'),
];
const index = indexEntries(DIRECTORY);
const ids = (text: string, top = 10) => searchEntries(index, text, top).items.map((e) => e.employeeId);

describe('foldForSearch', () => {
  it.each([
    ['JOSÉ', 'jose'],
    ['Jose\u0301', 'jose'],
    ['ÅNGSTRÖM', 'angstrom'],
    ['STRASSE', 'straße'],
    ['Zoë', 'ZOE'],
  ])('folds %s and %s alike', (a, b) => expect(foldForSearch(a)).toBe(foldForSearch(b)));

  it('is idempotent and blind to case and composition', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
        expect(foldForSearch(foldForSearch(s))).toBe(foldForSearch(s));
        expect(foldForSearch(s.toUpperCase())).toBe(foldForSearch(s.toLowerCase()));
        expect(foldForSearch(s.normalize('NFD'))).toBe(foldForSearch(s.normalize('NFC')));
      }),
    );
  });
});

describe('searchEntries', () => {
  it('matches id, first name, last name and email ignoring case and accents', () => {
    expect(ids('nunez')).toEqual(['E0010']);
    expect(ids('ANGSTRÖM')).toEqual(['E0011']);
    expect(ids('zoe.angstrom@')).toEqual(['E0011']);
    expect(ids('strasse')).toEqual(['E0100']);
    expect(ids('e0100')).toEqual(['E0100']);
  });

  it('needs every word to match somewhere', () => {
    expect(ids('jose nunez')).toEqual(['E0010']);
    expect(ids('jose adams')).toEqual(['E0012']);
    expect(ids('jose nobody')).toEqual([]);
  });

  it('ranks the id typed exactly first, then id prefixes, then name starts, then the rest', () => {
    expect(ids('E0010')[0]).toBe('E0010');
    expect(ids('E001')).toEqual(['E0010', 'E0011', 'E0012']);
    // "jos" starts both first names; then by last name: Adams before Núñez
    expect(ids('jos')).toEqual(['E0012', 'E0010']);
    // "dam" occurs inside Adams only
    expect(ids('dam')).toEqual(['E0012']);
  });

  it('answers the best `top` and how many matched; nothing for blank text', () => {
    expect(searchEntries(index, 'contoso', 2)).toMatchObject({ total: 5, items: [expect.anything(), expect.anything()] });
    expect(searchEntries(index, '  ', 10)).toEqual({ items: [], total: 0 });
    expect(searchTerms(' a, b ;c ')).toEqual(['a', 'b', 'c']);
  });

  it('finds every entry by its own id, first name, last name or email, whatever the case', () => {
    const word = fc.stringMatching(/^[A-Za-zÀ-ÿ]{1,12}$/);
    fc.assert(
      fc.property(fc.array(fc.record({ first: word, last: word }), { minLength: 1, maxLength: 20 }), fc.nat(), fc.constantFrom('id', 'first', 'last', 'email'), (people, pick, field) => {
        const entries = people.map((p, i) => entry(`E${String(i).padStart(4, '0')}`, p.first, p.last));
        const chosen = entries[pick % entries.length] as DirectoryEntry;
        const text = { id: chosen.employeeId, first: chosen.firstName, last: chosen.lastName, email: chosen.email }[field];
        const found = searchEntries(indexEntries(entries), text.toUpperCase(), entries.length);
        expect(found.items).toContain(chosen);
        expect(found.items.every((e) => matchRank(indexEntries([e])[0]!, searchTerms(text)) !== null)).toBe(true);
      }),
    );
  });

  it('evaluates the member prerequisites on what the list tells', () => {
    expect(evaluateMember(entryFacts(entry('E1', 'A', 'B'))).prerequisite).toBeNull();
    expect(evaluateMember(entryFacts({ ...entry('E1', 'A', 'B'), user: null })).prerequisite).toBe('NO_USER_RECORD');
    expect(evaluateMember(entryFacts({ ...entry('E1', 'A', 'B'), employeeStatus: 'T' })).prerequisite).toBe('EMPLOYEE_TERMINATED');
  });
});
