/**
 * The people the local stack seeds in the Auth emulator so break-glass access can be tried by
 * hand (docs/access.md): an engineer, two approvers (project-level users with `access_roles`
 * claims) and a tenant admin of the first demo tenant, who reads the transparency feed. Each
 * gets a password generated for this run, listed in `.local/stack.json` under `people`.
 */
import { randomBytes } from 'node:crypto';
import { firebaseAuth } from '../../functions/src/tenancy/identity';
import type { StackFile } from './stack-file';

type Person = StackFile['people'][number];

const PEOPLE: { email: string; role: Person['role']; claims: (tenantId: string) => object }[] = [
  {
    email: 'engineer@provenant.example',
    role: 'engineer',
    claims: () => ({ access_roles: ['engineer'] }),
  },
  {
    email: 'approver-1@provenant.example',
    role: 'approver',
    claims: () => ({ access_roles: ['approver'] }),
  },
  {
    email: 'approver-2@provenant.example',
    role: 'approver',
    claims: () => ({ access_roles: ['approver'] }),
  },
  {
    email: 'security-admin@{tenant}.example',
    role: 'admin',
    claims: (tenantId) => ({ tenant_id: tenantId, role: 'admin' }),
  },
];

/** Creates the people (project-level pool) with fresh passwords and their custom claims. */
export async function seedPeople(projectId: string, tenantId: string): Promise<Person[]> {
  const auth = await firebaseAuth(projectId);
  const people: Person[] = [];
  for (const p of PEOPLE) {
    const email = p.email.replace('{tenant}', tenantId);
    const password = randomBytes(12).toString('base64url');
    const user = await auth.createUser({ email, password, emailVerified: true });
    await auth.setCustomUserClaims(user.uid, p.claims(tenantId));
    people.push({ email, password, role: p.role, ...(p.role === 'admin' ? { tenantId } : {}) });
  }
  return people;
}
