/**
 * Mail through the SMTP relay of `SMTP_URL`, with nodemailer (its SMTP transport speaks RFC
 * 5321 and builds RFC 5322 messages with a Message-ID). The relay is a sub-processor: before
 * every message the registry is asked whether the relay's host belongs to a vendor in force
 * that day, and nothing is sent while it is not (as the pipeline does for model providers).
 * A relay on the loopback interface runs on the sending machine itself and is no third party:
 * the local stack's SMTP sink (scripts/local/smtp-sink.ts). Deployed, `SMTP_URL` must be
 * `smtps://` (config.ts), and no loopback relay exists in Cloud Functions.
 */
import nodemailer from 'nodemailer';
import type { Config } from '../config';
import { AppError } from '../errors';
import {
  dayOf,
  runtimeRegistry,
  SubprocessorNotActiveError,
  type SubprocessorRegistry,
} from '../subprocessors/registry';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export interface SentMail {
  /** The Message-ID header of the message as sent (RFC 5322 §3.6.4). */
  messageId: string;
  /** The relay's final reply to DATA (`250 …`), which names its own queue id. */
  relayResponse: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SentMail>;
}

/** No relay configured: subscriptions and notice mails are unavailable (503). */
export class NoticesUnavailableError extends AppError {
  override readonly name = 'NoticesUnavailableError';
  constructor(message: string) {
    super(503, 'notices_unavailable', message);
  }
}

/** The relay accepted the connection but not the message (or not the recipient). */
export class NoticeMailError extends AppError {
  override readonly name = 'NoticeMailError';
  constructor(message: string) {
    super(502, 'notice_mail_failed', message);
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Why the relay at `host` may not be sent mail on the day of `now`; undefined when it may. */
export function relayRefusal(
  host: string,
  now: Date,
  registry: SubprocessorRegistry = runtimeRegistry(),
): SubprocessorNotActiveError | undefined {
  if (LOOPBACK.has(host)) return undefined;
  const owner = registry.byHost(host);
  if (!owner) return new SubprocessorNotActiveError(host, dayOf(now), 'unregistered');
  return registry.refusal(owner.id, now);
}

/** Connection, greeting and idle limits, so a stuck relay fails a delivery instead of hanging it. */
const SMTP_TIMEOUT_MS = 15_000;

export function createMailer(
  config: Pick<Config, 'SMTP_URL' | 'NOTICE_MAIL_FROM'>,
  options: { registry?: SubprocessorRegistry; now?: () => Date } = {},
): Mailer {
  const url = config.SMTP_URL;
  if (!url) throw new NoticesUnavailableError('notice mail is not configured (SMTP_URL)');
  const host = new URL(url).hostname;
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  const now = options.now ?? (() => new Date());
  return {
    async send(mail) {
      const refusal = relayRefusal(host, now(), options.registry);
      if (refusal) {
        throw new NoticesUnavailableError(
          `the notice mail relay is not usable: ${refusal.message}`,
        );
      }
      let info: { messageId: string; response: string; rejected: unknown[] };
      try {
        info = await transport.sendMail({
          from: config.NOTICE_MAIL_FROM,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
        });
      } catch (err) {
        const code = (err as { responseCode?: unknown }).responseCode;
        throw new NoticeMailError(
          `the mail relay refused the message${typeof code === 'number' ? ` (SMTP ${String(code)})` : ''}`,
        );
      }
      if (info.rejected.length > 0)
        throw new NoticeMailError('the mail relay refused the recipient');
      return { messageId: info.messageId, relayResponse: info.response.slice(0, 200) };
    },
  };
}

const mailers = new WeakMap<object, Mailer>();

/** The instance's mailer for `config`, built once (nodemailer transports are reusable). */
export function noticeMailer(config: Config): Mailer {
  let mailer = mailers.get(config);
  if (!mailer) {
    mailer = createMailer(config);
    mailers.set(config, mailer);
  }
  return mailer;
}
