import { crc32c, crc32cBase64, crc32cUpdate } from '../../functions/src/util/crc32c';

describe('crc32c', () => {
  it('matches the RFC 3720 check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('matches the iSCSI test vector of 32 zero bytes', () => {
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
  });

  it('is the same computed in pieces as in one go', () => {
    const data = Buffer.from('the quick brown fox jumps over the lazy dog');
    const split = crc32cUpdate(crc32cUpdate(0, data.subarray(0, 10)), data.subarray(10));
    expect(split).toBe(crc32c(data));
  });

  it('encodes big-endian base64 as Cloud Storage does', () => {
    // gsutil hash of an empty object reports crc32c AAAAAA==.
    expect(crc32cBase64(Buffer.alloc(0))).toBe('AAAAAA==');
    expect(crc32cBase64(Buffer.from('123456789'))).toBe('4waSgw==');
  });
});
