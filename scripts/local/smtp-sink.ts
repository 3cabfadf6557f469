/**
 * The local stack's SMTP relay: an `smtp-server` on loopback that accepts what a relay would
 * accept and writes each message to `<dir>/*.eml`, so a person reads what customers would
 * receive and the tests read the links in it. It refuses what a relay refuses where that is
 * cheap to check, with the reply codes of RFC 5321:
 * - DATA before a MAIL or a RCPT: 503 (bad sequence of commands, §4.1.1.4, §4.2.3), which
 *   smtp-server answers itself (`need MAIL command`, `need RCPT command`);
 * - a recipient that is not a mailbox (`local@domain`): 553 (mailbox name not allowed, §4.2.3);
 * - a message over SIZE (RFC 1870, advertised in EHLO): 552 (§4.2.3, exceeded storage);
 * - a message without the From and Date headers RFC 5322 §3.6 requires: 554 (transaction
 *   failed, §4.2.3).
 * No STARTTLS and no AUTH are offered: the sink is on loopback only, and nodemailer then speaks
 * plain SMTP to it. Deployed, `SMTP_URL` must be `smtps://` (functions/src/config.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

export interface RunningSmtpSink {
  /** `127.0.0.1:port`. */
  readonly host: string;
  /** `smtp://127.0.0.1:port`, what `SMTP_URL` is set to. */
  readonly url: string;
  readonly port: number;
  /** Where each accepted message lands as an .eml file. */
  readonly dir: string;
  close(): Promise<void>;
}

/** The largest message accepted (SIZE): notices are a few kilobytes. */
export const SINK_MAX_BYTES = 10 * 1024 * 1024;

const MAILBOX = /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/;

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The header block of a raw message (up to the first empty line), unfolded, lower-cased names. */
function headerNames(raw: string): Set<string> {
  const end = raw.search(/\r?\n\r?\n/);
  const block = end === -1 ? raw : raw.slice(0, end);
  return new Set(
    block
      .split(/\r?\n/)
      .filter((line) => /^[!-9;-~]+:/.test(line))
      .map((line) => line.slice(0, line.indexOf(':')).toLowerCase()),
  );
}

export async function startSmtpSink(options: {
  dir: string;
  port?: number;
}): Promise<RunningSmtpSink> {
  mkdirSync(options.dir, { recursive: true });
  let seq = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    size: SINK_MAX_BYTES,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!MAILBOX.test(address.address)) {
        callback(smtpError(553, `5.1.3 ${address.address} is not a mailbox`));
        return;
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(smtpError(552, '5.3.4 message exceeds the fixed maximum message size'));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = headerNames(raw);
        if (!headers.has('from') || !headers.has('date')) {
          callback(smtpError(554, '5.6.0 a message needs From and Date headers (RFC 5322)'));
          return;
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const rcpts = session.envelope.rcptTo.map((r) => r.address);
        // What an MTA adds on final delivery (RFC 5321 §4.4): the envelope, readable in the file.
        const trace = [`Return-Path: <${from}>`, ...rcpts.map((r) => `Delivered-To: ${r}`)];
        seq += 1;
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(seq).padStart(4, '0')}-${randomBytes(3).toString('hex')}.eml`;
        const file = path.join(options.dir, name);
        // Written aside and renamed, so a reader never sees half a message.
        const tmp = path.join(options.dir, `.${name}.tmp`);
        writeFileSync(tmp, `${trace.join('\r\n')}\r\n${raw}`);
        renameSync(tmp, file);
        callback(null, `2.0.0 Ok: queued as ${path.basename(name, '.eml')}`);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // smtp-server keeps its net.Server as `server`.
  const address = (
    server as unknown as { server: { address(): { port: number } } }
  ).server.address();
  const port = address.port;
  return {
    host: `127.0.0.1:${String(port)}`,
    url: `smtp://127.0.0.1:${String(port)}`,
    port,
    dir: options.dir,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
