import type { LookupAddress } from 'node:dns';
import {
  checkWebhookUrl,
  classifyAddress,
  parseIPv4,
  parseIPv6,
  type AddressClass,
  type Resolver,
} from '../../functions/src/webhooks/ssrf';

const strict = { allowLoopback: false };
const local = { allowLoopback: true };

/** A resolver that must not be consulted (IP literals and refused names never reach DNS). */
const noDns: Resolver = () => Promise.reject(new Error('DNS must not be used here'));
const dns =
  (table: Record<string, string[]>): Resolver =>
  (host) => {
    const addrs = table[host];
    if (!addrs) return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      addrs.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };

describe('classifyAddress', () => {
  it.each<[string, AddressClass]>([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.0.1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:0808:0808::1', 'public'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'reserved'],
    ['2001:4860:4860::8888', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['not-an-ip', 'invalid'],
    ['1.2.3.4.5', 'invalid'],
    ['256.1.1.1', 'invalid'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each([
    ['127.1', 0x7f000001],
    ['0x7f.1', 0x7f000001],
    ['0177.0.0.1', 0x7f000001],
    ['2130706433', 0x7f000001],
    ['0xa9fea9fe', 0xa9fea9fe],
    ['169.254.43518', 0xa9fea9fe],
    ['10.1', 0x0a000001],
  ])('reads the inet_aton form %s', (text, value) => {
    expect(parseIPv4(text)).toBe(value);
  });

  it('parses IPv6 with a dotted tail into eight groups', () => {
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6('1::2::3')).toBeUndefined();
  });
});

describe('checkWebhookUrl', () => {
  it.each([
    'http://0x7f.1/',
    'https://0x7f.1/',
    'https://2130706433/',
    'https://017700000001/',
    'https://127.1/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:169.254.169.254]/',
    'https://169.254.169.254/computeMetadata/v1/',
    'https://0xa9fea9fe/',
    'https://[fd00:ec2::254]/',
    'https://10.0.0.1/hook',
    'https://192.168.0.10:8443/hook',
    'https://100.100.100.200/',
    'https://0.0.0.0/',
    'https://[::]/',
    'https://[fe80::1]/',
    'https://224.0.0.1/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://METADATA.GOOGLE.INTERNAL./',
    'https://metadata/',
    'https://localhost/',
    'https://api.localhost/',
  ])('refuses %s', async (url) => {
    await expect(checkWebhookUrl(url, strict, noDns)).rejects.toMatchObject({
      status: 400,
      code: 'webhook_url_forbidden',
    });
  });

  it.each([
    ['plain http to a public host', 'http://hooks.example.com/'],
    ['credentials in the URL', 'https://user:pw@hooks.example.com/'],
    ['a relative URL', '/hook'],
    ['another scheme', 'ftp://hooks.example.com/'],
    ['file', 'file:///etc/passwd'],
  ])('refuses %s', async (_, url) => {
    await expect(
      checkWebhookUrl(url, strict, dns({ 'hooks.example.com': ['93.184.216.34'] })),
    ).rejects.toMatchObject({ code: 'webhook_url_forbidden' });
  });

  it('refuses a name that resolves to a private address, even among public ones', async () => {
    const resolver = dns({
      'rebind.example.com': ['93.184.216.34', '10.0.0.7'],
      'meta.example.com': ['::ffff:169.254.169.254'],
    });
    await expect(
      checkWebhookUrl('https://rebind.example.com/', strict, resolver),
    ).rejects.toMatchObject({ details: { reason: 'private' } });
    await expect(
      checkWebhookUrl('https://meta.example.com/', strict, resolver),
    ).rejects.toMatchObject({ details: { reason: 'metadata' } });
    await expect(
      checkWebhookUrl('https://nowhere.example.com/', strict, resolver),
    ).rejects.toMatchObject({ details: { reason: 'unresolvable' } });
  });

  it('accepts an https URL whose host resolves only to public addresses', async () => {
    const url = await checkWebhookUrl(
      'https://hooks.example.com/provenant?x=1',
      strict,
      dns({ 'hooks.example.com': ['93.184.216.34', '2606:4700:4700::1111'] }),
    );
    expect(url.href).toBe('https://hooks.example.com/provenant?x=1');
    await expect(checkWebhookUrl('https://8.8.8.8/', strict, noDns)).resolves.toBeInstanceOf(URL);
  });

  it('allows loopback (and plain http to it) only in loopback mode', async () => {
    await expect(
      checkWebhookUrl('http://127.0.0.1:9999/hook', local, noDns),
    ).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookUrl('http://0x7f.1:9999/', local, noDns)).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookUrl('http://127.0.0.1:9999/hook', strict, noDns)).rejects.toThrow();
    // Loopback mode opens loopback only: private, metadata and plain http elsewhere stay shut.
    await expect(checkWebhookUrl('https://10.0.0.1/', local, noDns)).rejects.toThrow();
    await expect(checkWebhookUrl('https://169.254.169.254/', local, noDns)).rejects.toThrow();
    await expect(
      checkWebhookUrl(
        'http://hooks.example.com/',
        local,
        dns({ 'hooks.example.com': ['8.8.8.8'] }),
      ),
    ).rejects.toThrow();
    await expect(
      checkWebhookUrl('https://metadata.google.internal/', local, noDns),
    ).rejects.toThrow();
  });
});
