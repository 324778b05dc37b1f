import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWithDeadline } from '../../shared/deadline';
import { ForbiddenTargetError, checkUrlShape, classifyAddress, guardedLookup, validateEndpointUrl, type HostLookup } from '../../shared/outgoing/ssrf';
import { postWebhook } from '../../shared/outgoing/transport';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';

/**
 * Where outgoing webhooks may go. Every address and name used here stays on
 * this machine: refusals are IP literals (checked before any socket exists)
 * or `localhost`, and the transport runs under the `loopback-only` policy,
 * so even a bug could not send a packet elsewhere.
 */
process.env.OUTGOING_WEBHOOKS_NETWORK = 'loopback-only';

describe('address classes', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.127.255.254', 'carrier-grade-nat'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    // IPv6 spellings of IPv4 addresses are judged as the IPv4 address they carry.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    // IPv4-compatible (::/96, deprecated): refused whatever it carries.
    ['::10.0.0.1', 'reserved'],
    ['::8.8.8.8', 'reserved'],
    ['::102', 'reserved'],
    // IPv4-translated (::ffff:0:0/96, SIIT) carries an IPv4 address.
    ['::ffff:0:a9fe:a9fe', 'metadata'],
    ['::ffff:0:a00:1', 'private'],
    // Local-use NAT64 (64:ff9b:1::/48): an operator's own translator, whatever the layout.
    ['64:ff9b:1::a00:1', 'reserved'],
    ['64:ff9b:1:a9fe:a9:fe00::', 'reserved'],
    ['64:ff9b:1::808:808', 'reserved'],
    // The IANA IPv6 special-purpose registry (2025): IETF protocol assignments 2001::/23 (Teredo,
    // benchmarking, AMT, AS112, ORCHID, ORCHIDv2, DETs), documentation, SRv6 SIDs, discard and dummy prefixes.
    ['2001::1', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['2001:3::1', 'reserved'],
    ['2001:10::1', 'reserved'],
    ['2001:20::1', 'reserved'],
    ['2001:30::1', 'reserved'],
    ['2001:1ff::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['3fff:fff::1', 'reserved'],
    ['5f00::1', 'reserved'],
    ['100::1', 'reserved'],
    ['100:0:0:1::1', 'reserved'],
    // Outside global unicast (2000::/3) nothing is assigned for the public Internet.
    ['4000::1', 'reserved'],
    ['1::1', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:c0a8:0101::1', 'private'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '::ffff:0:808:808', '2001:200::1', '3fff:1000::1', '2a00:1450::1'])('%s is public', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });
});

describe('URL policy', () => {
  const refused = (url: string, policy: 'public' | 'local' | 'loopback-only') => {
    try {
      checkUrlShape(url, policy);
    } catch (error) {
      if (error instanceof ForbiddenTargetError) return error.reason;
      throw error;
    }
    return undefined;
  };

  it('public (AWS): https only, no private, loopback or metadata literal, no credentials or fragment', () => {
    expect(refused('https://93.184.216.34/hooks', 'public')).toBeUndefined();
    expect(refused('http://93.184.216.34/hooks', 'public')).toBe('https is required');
    expect(refused('https://127.0.0.1/hooks', 'public')).toMatch(/loopback/);
    expect(refused('https://[::1]/hooks', 'public')).toMatch(/loopback/);
    expect(refused('https://10.0.0.5/hooks', 'public')).toMatch(/private/);
    expect(refused('https://169.254.169.254/latest/meta-data', 'public')).toMatch(/metadata/);
    expect(refused('https://[::ffff:169.254.169.254]/', 'public')).toMatch(/metadata/);
    expect(refused('https://[fd00:ec2::254]/', 'public')).toMatch(/metadata/);
    expect(refused('https://user:pass@93.184.216.34/', 'public')).toMatch(/credentials/);
    expect(refused('https://93.184.216.34/#x', 'public')).toMatch(/fragment/);
    expect(refused('ftp://93.184.216.34/', 'public')).toBe('https is required');
    expect(refused('not a url', 'public')).toBe('not a URL');
    // WHATWG URL parsing turns the odd spellings into the address they mean.
    expect(refused('https://2130706433/', 'public')).toMatch(/loopback/);
    expect(refused('https://0x7f.1/', 'public')).toMatch(/loopback/);
  });

  it.each([
    ['https://93.184.216.34/', 'public', undefined],
    ['https://93.184.216.34:443/', 'public', undefined],
    ['https://93.184.216.34:8443/', 'public', undefined],
    ['https://93.184.216.34:1024/', 'public', undefined],
    ['https://93.184.216.34:65535/', 'public', undefined],
    ['https://93.184.216.34:0/', 'public', 'port 0 is not allowed'],
    ['https://93.184.216.34:22/', 'public', 'port 22 is not allowed (443, or 1024 to 65535)'],
    ['https://93.184.216.34:25/', 'public', 'port 25 is not allowed (443, or 1024 to 65535)'],
    ['https://93.184.216.34:80/', 'public', 'port 80 is not allowed (443, or 1024 to 65535)'],
    ['https://93.184.216.34:1023/', 'public', 'port 1023 is not allowed (443, or 1024 to 65535)'],
    ['http://127.0.0.1:0/', 'local', 'port 0 is not allowed'],
    ['http://127.0.0.1:0/', 'loopback-only', 'port 0 is not allowed'],
    ['http://127.0.0.1/', 'local', undefined],
    ['http://127.0.0.1:9/', 'loopback-only', undefined],
  ] as const)('port of %s under %s: %s', (url, policy, refusal) => {
    expect(refused(url, policy)).toBe(refusal);
  });

  it('local runtime: http allowed and loopback too, private ranges still refused', () => {
    expect(refused('http://127.0.0.1:8080/hooks', 'local')).toBeUndefined();
    expect(refused('http://[::1]:8080/hooks', 'local')).toBeUndefined();
    expect(refused('http://192.168.0.10/hooks', 'local')).toMatch(/private/);
    expect(refused('http://169.254.169.254/', 'local')).toMatch(/metadata/);
  });

  it('tests: loopback only, and a name other than localhost is not even looked up', () => {
    expect(refused('http://127.0.0.1:8080/', 'loopback-only')).toBeUndefined();
    expect(refused('http://localhost:8080/', 'loopback-only')).toBeUndefined();
    expect(refused('https://93.184.216.34/', 'loopback-only')).toMatch(/not a loopback address/);
    expect(refused('https://example.com/', 'loopback-only')).toMatch(/not looked up/);
  });

  it('registration resolves the name: localhost is refused in AWS, accepted locally', async () => {
    await expect(validateEndpointUrl('https://localhost/hooks', 'public')).rejects.toThrow(/localhost resolves to .*loopback/);
    await expect(validateEndpointUrl('http://localhost:8080/hooks', 'local')).resolves.toBeInstanceOf(URL);
  });

  it("the connection's lookup checks what it resolved and hands over only checked addresses", async () => {
    const lookup = (policy: 'public' | 'local' | 'loopback-only', host: string) =>
      new Promise<{ error: NodeJS.ErrnoException | null; addresses: unknown }>((resolve) =>
        guardedLookup(policy)(host, { all: true }, (error, addresses) => resolve({ error, addresses })),
      );
    const refusedPublic = await lookup('public', 'localhost');
    expect(refusedPublic.error?.code).toBe('ERR_FORBIDDEN_TARGET');
    const allowedLocal = await lookup('local', 'localhost');
    expect(allowedLocal.error).toBeNull();
    for (const { address } of allowedLocal.addresses as Array<{ address: string }>) expect(classifyAddress(address)).toBe('loopback');
    expect((await lookup('loopback-only', 'example.com')).error?.code).toBe('ERR_FORBIDDEN_TARGET');
  });
});

describe('name lookups', () => {
  /** A lookup that records the names it is asked and answers with a public address (so using it would show). */
  const recordingLookup = () => {
    const asked: string[] = [];
    const lookup: HostLookup = (hostname, _options, callback) => {
      asked.push(hostname);
      callback(null, [{ address: '93.184.216.34', family: 4 }]);
    };
    return { asked, lookup };
  };
  const connectionLookup = (policy: 'public' | 'local' | 'loopback-only', host: string, lookup: HostLookup) =>
    new Promise<{ error: NodeJS.ErrnoException | null; addresses: unknown }>((resolve) =>
      guardedLookup(policy, lookup)(host, { all: true }, (error, addresses) => resolve({ error, addresses })),
    );

  it('a name whose lookup never answers is refused within the call budget ("does not resolve in time"), never waited on', async () => {
    const neverAnswers: HostLookup = () => undefined;
    await expect(runWithDeadline(1_100, () => validateEndpointUrl('https://never-answers.example/', 'public', neverAnswers))).rejects.toThrow(
      'The endpoint URL is not allowed: never-answers.example does not resolve in time',
    );
    const connection = await runWithDeadline(1_100, () => connectionLookup('public', 'never-answers.example', neverAnswers));
    expect(connection.error?.code).toBe('ENOTFOUND');
  });

  it('localhost and *.localhost are loopback without any lookup, so no DNS query can leave', async () => {
    const { asked, lookup } = recordingLookup();
    await expect(validateEndpointUrl('http://probe-dns-leak.localhost:8080/', 'loopback-only', lookup)).resolves.toBeInstanceOf(URL);
    await expect(validateEndpointUrl('http://localhost:8080/', 'loopback-only', lookup)).resolves.toBeInstanceOf(URL);
    await expect(validateEndpointUrl('https://probe.localhost./', 'local', lookup)).resolves.toBeInstanceOf(URL);
    await expect(validateEndpointUrl('https://probe.localhost/', 'public', lookup)).rejects.toThrow(/probe.localhost resolves to 127.0.0.1, a loopback address/);
    expect(await connectionLookup('loopback-only', 'probe.localhost', lookup)).toEqual({ error: null, addresses: [{ address: '127.0.0.1', family: 4 }] });
    expect(asked).toEqual([]);
    // Any other name is looked up (through the lookup given), except under loopback-only.
    await expect(validateEndpointUrl('https://hooks.example/', 'public', lookup)).resolves.toBeInstanceOf(URL);
    expect((await connectionLookup('loopback-only', 'hooks.example', lookup)).error?.code).toBe('ERR_FORBIDDEN_TARGET');
    expect(asked).toEqual(['hooks.example']);
  });
});

describe('the transport', () => {
  let receiver: HttpReceiver;
  let answer = 200;
  let holdAnswers = false;
  beforeAll(async () => {
    receiver = await startHttpReceiver((_request, response) => {
      if (holdAnswers) return;
      response.writeHead(answer, answer === 302 ? { location: `${receiver.url}/elsewhere` } : {});
      response.end('x'.repeat(1_000_000));
    });
  });
  afterAll(() => receiver.close());

  it('posts to a loopback receiver and reports its status, never following a redirect', async () => {
    answer = 200;
    const delivered = await postWebhook(`${receiver.url}/hooks`, { 'webhook-id': 'msg_1' }, '{"a":1}');
    expect(delivered).toMatchObject({ statusCode: 200 });
    answer = 302;
    const before = receiver.received.length;
    expect(await postWebhook(`${receiver.url}/hooks`, {}, '{}')).toMatchObject({ statusCode: 302 });
    expect(receiver.received.slice(before).map((request) => request.path)).toEqual(['/hooks']);
    expect(receiver.received[before]?.headers['webhook-id']).toBeUndefined();
    expect(receiver.received[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(receiver.received[0]?.headers).toMatchObject({ 'webhook-id': 'msg_1', 'content-type': 'application/json' });
  });

  it.each(['http://10.0.0.1/hooks', 'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'https://93.184.216.34/', 'https://example.com/hooks'])(
    'refuses %s before any connection (forbidden_target, not a timeout or a refusal by a peer)',
    async (url) => {
      expect(await postWebhook(url, {}, '{}')).toMatchObject({ errorClass: 'forbidden_target' });
    },
  );

  it("checks the addresses a name resolves to at connection time (AWS policy: localhost is refused before any byte is sent)", async () => {
    process.env.OUTGOING_WEBHOOKS_NETWORK = 'public';
    try {
      const before = receiver.received.length;
      expect(await postWebhook(`https://localhost:${new URL(receiver.url).port}/hooks`, {}, '{}')).toMatchObject({ errorClass: 'forbidden_target' });
      expect(receiver.received.length).toBe(before);
    } finally {
      process.env.OUTGOING_WEBHOOKS_NETWORK = 'loopback-only';
    }
  });

  it('ends an attempt the endpoint never answers within the invocation budget (timeout)', async () => {
    holdAnswers = true;
    try {
      const result = await runWithDeadline(1_600, () => postWebhook(`${receiver.url}/slow`, {}, '{}'));
      expect(result).toMatchObject({ errorClass: 'timeout' });
    } finally {
      holdAnswers = false;
    }
  });

  it('names a closed port a refused connection', async () => {
    expect(await postWebhook('http://127.0.0.1:9/hooks', {}, '{}')).toMatchObject({ errorClass: 'connection_refused' });
  });
});
