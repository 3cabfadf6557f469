/**
 * Every host the code can connect to in production, for the sub-processor gate: the LLM
 * providers from the provider registry, and the Google APIs behind the official clients the
 * functions build (services.ts, tenancy/, storage/, crypto/). Locally the same clients reach
 * emulators through endpoint settings; these are the hosts they reach when none is set.
 * test/unit/subprocessor-gate.test.ts holds each Google host to its client library's default.
 */
import { PROVIDERS } from '../config';
import { providerHosts } from '../providers/registry';
import type { CodeHost } from '../subprocessors/gate';

export const GOOGLE_CLIENT_HOSTS: readonly CodeHost[] = [
  {
    host: 'firestore.googleapis.com',
    usedBy: 'tenancy/firestore.ts (@google-cloud/firestore FirestoreClient.servicePath)',
  },
  { host: 'pubsub.googleapis.com', usedBy: 'services.ts (@google-cloud/pubsub servicePath)' },
  {
    host: 'storage.googleapis.com',
    usedBy:
      'storage/object-store.ts (@google-cloud/storage storage.js: https://storage.${universe})',
  },
  {
    host: 'cloudkms.googleapis.com',
    usedBy: 'crypto/kms.ts (@google-cloud/kms KeyManagementServiceClient.servicePath)',
  },
  {
    host: 'identitytoolkit.googleapis.com',
    usedBy: 'tenancy/identity.ts, lifecycle/onboarding.ts (firebase-admin auth user management)',
  },
  {
    host: 'www.googleapis.com',
    usedBy: 'tenancy/identity.ts (firebase-admin verifyIdToken: securetoken public keys)',
  },
  {
    host: 'oauth2.googleapis.com',
    usedBy: 'google-auth-library under every Google client (access tokens from key files)',
  },
];

/**
 * The SMTP relay the notifier sends sub-processor notices through in production (`SMTP_URL`,
 * `smtps://…@email-smtp.eu-west-1.amazonaws.com:465`, Amazon SES's SMTP interface:
 * https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html). Cloud Functions cannot be the
 * relay themselves: Google Cloud blocks outbound port 25 and points to third-party mail
 * services (https://cloud.google.com/compute/docs/tutorials/sending-mail). The mailer asks the
 * registry for the relay's host before every message and sends nothing while its vendor is not
 * in force (`webhooks/mailer.ts`), so the gate accepts it while announced.
 */
export const NOTICE_RELAY_HOST: CodeHost = {
  host: 'email-smtp.eu-west-1.amazonaws.com',
  usedBy: 'webhooks/mailer.ts (nodemailer over SMTP_URL: sub-processor notices)',
  refusedUntilInForce: true,
};

/** The hosts of the code as built: providers (checked at runtime under their name) and Google. */
export function codeHosts(): CodeHost[] {
  const providers = providerHosts();
  return [
    ...PROVIDERS.map((name) => ({
      host: providers[name],
      usedBy: `providers/registry.ts (${name})`,
      subprocessor: name,
    })),
    ...GOOGLE_CLIENT_HOSTS,
    NOTICE_RELAY_HOST,
  ];
}
