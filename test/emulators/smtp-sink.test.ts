/**
 * The local SMTP sink as a relay: the production mailer (nodemailer over SMTP) delivers into
 * it, each message lands as one .eml, and it refuses what a relay refuses (RFC 5321 reply
 * codes), spoken to over a raw socket as any SMTP client would.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMailer } from '../../functions/src/webhooks/mailer';
import { startSmtpSink, type RunningSmtpSink } from '../../scripts/local/smtp-sink';

let sink: RunningSmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink({ dir: mkdtempSync(path.join(tmpdir(), 'smtp-sink-')) });
});
afterAll(async () => {
  await sink.close();
});

const emls = () => readdirSync(sink.dir).filter((n) => n.endsWith('.eml'));

/**
 * One SMTP conversation: each command is sent after the previous reply, and the replies are
 * returned (the greeting first). A multi-line reply (`250-…`) counts as one.
 */
async function converse(commands: string[]): Promise<string[]> {
  const socket = net.connect(sink.port, '127.0.0.1');
  const replies: string[] = [];
  let buffer = '';
  let waiting: ((reply: string) => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3} [^\r\n]*\r\n/.exec(buffer);
      if (!m) break;
      buffer = buffer.slice(m[0].length);
      const reply = m[0].trim();
      replies.push(reply);
      waiting?.(reply);
    }
  });
  const next = () =>
    new Promise<string>((resolve) => {
      waiting = (r) => {
        waiting = undefined;
        resolve(r);
      };
    });
  await next();
  for (const command of commands) {
    const reply = next();
    socket.write(`${command}\r\n`);
    await reply;
  }
  socket.end();
  return replies;
}

const code = (reply: string | undefined) => (reply ?? '').slice(0, 3);

describe('the SMTP sink refuses what a relay refuses', () => {
  it('DATA with no recipient: 503 bad sequence (RFC 5321 §4.1.1.4), nothing written', async () => {
    const before = emls().length;
    const replies = await converse(['EHLO test', 'MAIL FROM:<a@b.example>', 'DATA', 'QUIT']);
    expect(replies.map(code)).toEqual(['220', '250', '250', '503', '221']);
    expect(emls()).toHaveLength(before);
  });

  it('a recipient that is not a mailbox: 501 syntax, or 553 for a domain with no dot (RFC 5321 §4.2.3)', async () => {
    const replies = await converse([
      'EHLO test',
      'MAIL FROM:<a@b.example>',
      'RCPT TO:<nobody>',
      'RCPT TO:<nobody@localhost>',
      'QUIT',
    ]);
    expect([code(replies[3]), code(replies[4])]).toEqual(['501', '553']);
  });

  it('a message without From or Date (RFC 5322 §3.6): 554, nothing written', async () => {
    const before = emls().length;
    const replies = await converse([
      'EHLO test',
      'MAIL FROM:<a@b.example>',
      'RCPT TO:<c@d.example>',
      'DATA',
      'Subject: no origin\r\n\r\nbody\r\n.',
      'QUIT',
    ]);
    expect(code(replies[5])).toBe('554');
    expect(emls()).toHaveLength(before);
  });
});

describe('the production mailer delivers into the sink', () => {
  it('one .eml per message, with the envelope, the headers nodemailer wrote and the text', async () => {
    const mailer = createMailer({
      SMTP_URL: sink.url,
      NOTICE_MAIL_FROM: 'notices@provenant.invalid',
    });
    const before = new Set(emls());
    const sent = await mailer.send({
      to: 'ops@customer.example',
      subject: 'Sub-processor notice: test',
      text: 'Line one.\nLine two.\n',
    });
    const added = emls().filter((n) => !before.has(n));
    expect(added).toHaveLength(1);
    const eml = readFileSync(path.join(sink.dir, added[0] ?? ''), 'utf8');
    expect(eml).toMatch(
      /^Return-Path: <notices@provenant\.invalid>\r\nDelivered-To: ops@customer\.example\r\n/,
    );
    expect(eml).toContain(`Message-ID: ${sent.messageId}`);
    expect(eml).toContain('Subject: Sub-processor notice: test');
    expect(eml).toContain('Line two.');
    expect(sent.relayResponse).toMatch(/^250 /);
  });

  it('a refused recipient is a typed error, and nothing is written', async () => {
    const mailer = createMailer({
      SMTP_URL: sink.url,
      NOTICE_MAIL_FROM: 'notices@provenant.invalid',
    });
    const before = emls().length;
    await expect(
      mailer.send({ to: 'not-a-mailbox@x', subject: 's', text: 't' }),
    ).rejects.toMatchObject({
      code: 'notice_mail_failed',
    });
    expect(emls()).toHaveLength(before);
  });
});
