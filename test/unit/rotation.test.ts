import { KeyHierarchy } from '../../functions/src/crypto/envelope';
import type { KeyManager } from '../../functions/src/crypto/kms';
import {
  defaultRotationId,
  rotationEvidenceId,
  versionsToDisable,
  wrappingKeyAad,
} from '../../functions/src/lifecycle/key-rotation';

const v = (n: number) =>
  `projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/${String(n)}`;

describe('which versions rotation disables', () => {
  it('never the version the wrapping key is wrapped under', () => {
    expect(
      versionsToDisable(
        [
          { name: v(1), state: 'ENABLED' },
          { name: v(2), state: 'ENABLED' },
        ],
        v(2),
      ),
    ).toEqual([v(1)]);
  });

  it('only enabled ones: disabled and destroyed versions are left alone', () => {
    expect(
      versionsToDisable(
        [
          { name: v(1), state: 'DESTROY_SCHEDULED' },
          { name: v(2), state: 'DISABLED' },
          { name: v(3), state: 'ENABLED' },
          { name: v(4), state: 'ENABLED' },
        ],
        v(4),
      ),
    ).toEqual([v(3)]);
  });

  it('nothing when only the kept version exists', () => {
    expect(versionsToDisable([{ name: v(1), state: 'ENABLED' }], v(1))).toEqual([]);
  });
});

describe('rotation ids', () => {
  it('default to the UTC day, so a repeated run the same day is the same rotation', () => {
    expect(defaultRotationId(new Date('2026-03-04T23:59:59Z'))).toBe('2026-03-04');
    expect(defaultRotationId(new Date('2026-03-05T00:00:00Z'))).toBe('2026-03-05');
  });

  it('name a deterministic evidence record', () => {
    expect(rotationEvidenceId('2026-03-04')).toBe('ev_key_rotation_2026-03-04');
  });
});

describe('the wrapping-key AAD rotation re-wraps under', () => {
  it('is exactly the one KeyHierarchy wraps and unwraps with', async () => {
    const seen: Buffer[] = [];
    const km = {
      encrypt: (_k: string, plaintext: Buffer, aad: Buffer) => {
        seen.push(aad);
        return Promise.resolve({ ciphertext: plaintext, keyVersion: v(1) });
      },
      decrypt: (_k: string, ciphertext: Buffer, aad: Buffer) => {
        seen.push(aad);
        return Promise.resolve(ciphertext);
      },
    } as unknown as KeyManager;
    const keys = new KeyHierarchy(km, 0, 1);
    const wrapped = await keys.createWrappingKey('t1', 'kek');
    await keys.wrappingKey({ id: 't1', kekName: 'kek', wrappingKey: wrapped });
    expect(seen).toHaveLength(2);
    for (const aad of seen) expect(aad.equals(wrappingKeyAad('t1'))).toBe(true);
    expect(wrappingKeyAad('t1').equals(wrappingKeyAad('t2'))).toBe(false);
  });
});
