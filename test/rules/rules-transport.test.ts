/**
 * Issue 10, finding 10: the flaky matrix case `create by admin of the tenant [valid] → allowed`.
 *
 * A TCP proxy in front of the stack's Firestore emulator lets a create through, holds back
 * every byte of the answer until the document is committed, then drops the connection: the
 * condition a loaded machine produces at random, made explicit. The matrix's client must then
 * report "no verdict", never a denial the rules did not make.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot, readStackFile } from '../../scripts/local/stack-file';
import { FirestoreRest, idToken, serverTime, TransportError, type DocData } from './firestore-rest';

const stack = readStackFile();
const run = `transport-${randomBytes(4).toString('hex')}`;
const TENANT = `${run}-t`;
const IDENTITY_TENANT = 'people-transport';

/**
 * Forwards connections to the emulator. Once armed, it withholds the emulator's next answer on
 * the connection that carries it until `committed()` holds, then resets that connection.
 */
async function droppingProxy(target: string, committed: () => Promise<boolean>) {
  const [host = '', port = ''] = target.split(':');
  let armed = false;
  let dropped: () => void = () => undefined;
  const whenDropped = new Promise<void>((resolve) => {
    dropped = resolve;
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    sockets.add(client).add(upstream);
    let holding = false;
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (armed && !holding) {
        holding = true;
        armed = false;
        void (async () => {
          while (!(await committed())) await sleep(20);
          client.resetAndDestroy();
          upstream.destroy();
          dropped();
        })();
      }
      if (!holding) client.write(d);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arm: () => {
      armed = true;
    },
    whenDropped,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const rest = new FirestoreRest(stack.emulators.firestore, stack.projectId);
const written: string[] = [];
const admin = {
  idToken: idToken(stack.projectId, 'admin-uid', {
    tenant_id: TENANT,
    role: 'admin',
    firebase: { tenant: IDENTITY_TENANT, sign_in_provider: 'password' },
  }),
};

beforeAll(async () => {
  await rest.loadRules(readFileSync(path.join(projectRoot(), 'firestore.rules'), 'utf8'));
  const profile = `tenants/${TENANT}`;
  written.push(profile);
  await rest.seed([
    [
      profile,
      { id: TENANT, name: 'Transport', status: 'active', identityTenantId: IDENTITY_TENANT },
    ],
  ]);
});

afterAll(async () => {
  await rest.remove(written);
});

const subscription = (): DocData => ({
  email: 'ops@example.com',
  tenantId: TENANT,
  createdAt: serverTime(),
});

describe('finding 10: a dropped connection is never a verdict', () => {
  it('an allowed create whose answer is lost after the commit is not reported as denied', async () => {
    const docPath = `tenants/${TENANT}/noticeSubscriptions/${run}-dropped`;
    written.push(docPath);
    const proxy = await droppingProxy(stack.emulators.firestore, () => rest.exists(docPath));
    try {
      const client = new FirestoreRest(`127.0.0.1:${String(proxy.port)}`, stack.projectId);
      proxy.arm();
      const attempt = client.set(admin, docPath, subscription());
      await expect(attempt).rejects.toThrow(TransportError);
      await proxy.whenDropped;
      expect(await rest.exists(docPath)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  // Why a client that re-sends is wrong for the matrix: the second, identical create meets the
  // document the first one committed, so the rules judge it as an update (here: no update is
  // allowed at all; a schema's update refuses the new createdAt) and refuse it.
  it('a create re-sent after it committed is judged as an update and refused', async () => {
    const docPath = `tenants/${TENANT}/noticeSubscriptions/${run}-twice`;
    written.push(docPath);
    expect(await rest.set(admin, docPath, subscription())).toEqual({ allowed: true });
    const again = await rest.set(admin, docPath, subscription());
    expect(again.allowed).toBe(false);
  });
});
