import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, needsRehash, verifyPassword } from './passwords.ts';

describe('passwords', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('treats composed and decomposed Unicode alike (NFC), so a password typed on another keyboard still works', async () => {
    const hash = await hashPassword('caf\u00e9-password', { ln: 10, r: 8, p: 1 });
    expect(await verifyPassword('cafe\u0301-password', hash)).toBe(true);
  });

  it('asks for a rehash when the stored cost is below the current one, and rejects garbage', async () => {
    const weak = await hashPassword('some-password', { ln: 10, r: 8, p: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(await hashPassword('some-password'))).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    expect(await verifyPassword('x', '$scrypt$ln=99,r=8,p=1$AAAA$AAAA')).toBe(false);
  });

  it('generates 20-character passwords from an unambiguous alphabet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{20}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });
});
