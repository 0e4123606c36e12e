import fc from 'fast-check';
import { isValidEmail } from '../../shared/domain/email';

const LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-".split('');
const LABEL_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');

const atom = fc.array(fc.constantFrom(...LOCAL_CHARS), { minLength: 1, maxLength: 10 }).map((c) => c.join(''));
const localPart = fc.array(atom, { minLength: 1, maxLength: 3 }).map((atoms) => atoms.join('.'));
const alnum = fc.constantFrom(...LABEL_CHARS);
const label = fc
  .tuple(alnum, fc.array(fc.constantFrom(...LABEL_CHARS, '-'), { maxLength: 8 }), alnum)
  .map(([first, middle, last]) => `${first}${middle.join('')}${last}`);
const tld = fc.array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')), { minLength: 2, maxLength: 6 }).map((c) => c.join(''));
const domain = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld).map(([labels, top]) => [...labels, top].join('.'));
const validEmail = fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`);

describe('isValidEmail', () => {
  it('accepts generated well-formed addresses, with or without surrounding whitespace', () => {
    fc.assert(
      fc.property(validEmail, fc.constantFrom('', ' ', '\t', '  '), (email, pad) => {
        expect(isValidEmail(email)).toBe(true);
        expect(isValidEmail(`${pad}${email}${pad}`)).toBe(true);
      }),
    );
  });

  it('refuses generated addresses broken in one of the ways the rules name', () => {
    const breakers: Array<(local: string, dom: string) => string> = [
      (l, d) => `${l}${d}`, // no @
      (l, d) => `${l}@@${d}`, // two @
      (l, d) => `${l}@x@${d}`,
      (_l, d) => `@${d}`, // empty local part
      (l, d) => `.${l}@${d}`, // leading dot
      (l, d) => `${l}.@${d}`, // trailing dot
      (l, d) => `${l}..x@${d}`, // consecutive dots
      (l, d) => `${l} x@${d}`, // space inside
      (l, d) => `${l}"@${d}`, // character outside the allowed set
      (l, d) => `${'a'.repeat(65)}@${d}`, // local part too long
      (l) => `${l}@localhost`, // no dot in the domain
      (l, d) => `${l}@-${d}`, // label starting with a hyphen
      (l, d) => `${l}@${d.replace('.', '-.')}`, // label ending with a hyphen
      (l, d) => `${l}@${d}.c`, // one-letter TLD
      (l, d) => `${l}@${d}.c0m`, // TLD with a digit
      (l, d) => `${l}@${d}.`, // empty last label
      (l, d) => `${l}@${d.replace('.', '..')}`, // empty label
      (l, d) => `${l}@${d}_x.com`, // underscore in a label
      (l) => `${l}@${'a'.repeat(64)}.com`, // label longer than 63
    ];
    fc.assert(
      fc.property(localPart, domain, fc.constantFrom(...breakers), (l, d, breakIt) => {
        expect(isValidEmail(breakIt(l, d))).toBe(false);
      }),
    );
  });

  it('refuses an address longer than 254 characters even when each part is valid', () => {
    const longDomain = `${Array.from({ length: 4 }, () => 'a'.repeat(60)).join('.')}.com`; // 247 chars
    expect(isValidEmail(`abcdef@${longDomain}`)).toBe(true); // 254
    expect(isValidEmail(`abcdefg@${longDomain}`)).toBe(false); // 255
  });

  it('refuses blank input and accepts the everyday shapes', () => {
    expect(isValidEmail('')).toBe(false);
    expect(isValidEmail('   ')).toBe(false);
    expect(isValidEmail('jane.doe+sync@example.co.uk')).toBe(true);
    expect(isValidEmail("o'brien@my-firm.com")).toBe(true);
  });
});
