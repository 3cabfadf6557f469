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
  ];
}
