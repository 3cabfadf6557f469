/**
 * The rules tests' client: the Firestore emulator's REST API, one HTTP request per operation,
 * answered with the rules' verdict and nothing else.
 *
 * Why not the Firebase JS SDK: the SDK keeps a write pipeline and re-sends every write it has no
 * acknowledgement for after any transient stream failure (`RemoteStore.onWriteStreamClose` →
 * `onWriteHandshakeComplete` in @firebase/firestore). When the connection drops after the
 * emulator committed a create but before the answer arrived, the re-sent create finds its own
 * document and is judged as an *update*, which the rules rightly refuse: the SDK then reports
 * PERMISSION_DENIED for a create the rules allowed. Under the load of a full `npm test` that
 * turned `create by admin of the tenant [valid] → allowed` red at random (issue 10, finding 10;
 * reproduced deterministically in `rules-transport.test.ts`). Here a request is sent exactly
 * once: its HTTP status is the verdict, and a dropped connection is a `TransportError` (no
 * verdict), never a denial.
 *
 * The emulator evaluates the rules on REST requests with `Authorization: Bearer <ID token>` as
 * on the SDK's gRPC ones (checked on the gcloud SDK's emulator the stack runs). It does not
 * check token signatures: unsigned (`alg: none`) tokens are what @firebase/rules-unit-testing
 * sends too (`createMockUserToken` in @firebase/util). `Bearer owner` bypasses the rules, as the
 * server's service account does in production; the tests use it only to seed and clean up.
 */

/** A field value written as the request's commit time (the SDK's `serverTimestamp()`). */
export class ServerTime {
  readonly kind = 'serverTime';
}
/** In an update: removes the field (the SDK's `deleteField()`). */
export class DeleteField {
  readonly kind = 'deleteField';
}
export const serverTime = (): ServerTime => new ServerTime();
export const deleteField = (): DeleteField => new DeleteField();

export type FieldValue =
  | string
  | number
  | boolean
  | null
  | Date
  | ServerTime
  | DeleteField
  | FieldValue[]
  | { [key: string]: FieldValue };
export type DocData = Record<string, FieldValue>;

/** What the rules answered. */
export type Verdict = { allowed: true } | { allowed: false; message: string };

/** The request got no verdict: the connection failed, or the emulator answered neither yes nor no. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
}

/** Who sends a request: an ID token, the rules-bypassing owner, or nobody (signed out). */
export type Caller = { idToken: string } | 'owner' | null;

export interface QueryFilter {
  field: string;
  value: string;
}

type Json = Record<string, unknown>;

function encodeValue(value: FieldValue, path: string): Json {
  if (value instanceof ServerTime || value instanceof DeleteField) {
    throw new TypeError(`${path}: ${value.kind} is only supported as a top-level field`);
  }
  if (value === null) return { nullValue: null };
  if (typeof value === 'boolean') return { booleanValue: value };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { integerValue: String(value) } : { doubleValue: value };
  }
  if (typeof value === 'string') return { stringValue: value };
  if (value instanceof Date) return { timestampValue: value.toISOString() };
  if (Array.isArray(value)) {
    return { arrayValue: { values: value.map((v, i) => encodeValue(v, `${path}[${String(i)}]`)) } };
  }
  return { mapValue: { fields: encodeFields(value, `${path}.`) } };
}

function encodeFields(data: Record<string, FieldValue>, prefix = ''): Json {
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, encodeValue(v, `${prefix}${k}`)]),
  );
}

/** Splits a document's data into stored fields and commit-time transforms. */
function splitSentinels(data: DocData): {
  fields: DocData;
  transforms: string[];
  deleted: string[];
} {
  const fields: DocData = {};
  const transforms: string[] = [];
  const deleted: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (value instanceof ServerTime) transforms.push(key);
    else if (value instanceof DeleteField) deleted.push(key);
    else fields[key] = value;
  }
  return { fields, transforms, deleted };
}

/** An unsigned Firebase ID token as the emulator accepts it (the shape Firebase Auth issues). */
export function idToken(projectId: string, uid: string, claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const { firebase, ...custom } = claims;
  const payload = {
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    iat: now,
    exp: now + 3600,
    auth_time: now,
    sub: uid,
    user_id: uid,
    ...custom,
    firebase: {
      sign_in_provider: 'custom',
      identities: {},
      ...(typeof firebase === 'object' && firebase !== null ? firebase : {}),
    },
  };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

export class FirestoreRest {
  private readonly root: string;
  private readonly database: string;

  constructor(
    private readonly host: string,
    private readonly projectId: string,
  ) {
    this.database = `projects/${projectId}/databases/(default)`;
    this.root = `http://${host}/v1/${this.database}/documents`;
  }

  /** Replaces the project's rules in the emulator (a compile error is an exception). */
  async loadRules(source: string): Promise<void> {
    const response = await this.send(
      `http://${this.host}/emulator/v1/projects/${this.projectId}:securityRules`,
      { method: 'PUT', body: { rules: { files: [{ name: 'firestore.rules', content: source }] } } },
      null,
    );
    if (response.status !== 200) {
      throw new Error(`the emulator refused the rules: ${await response.text()}`);
    }
  }

  name(path: string): string {
    return `${this.database}/documents/${path}`;
  }

  get(caller: Caller, path: string): Promise<Verdict> {
    // A document that does not exist is still an allowed read (the SDK's `exists: false`).
    return this.verdict(this.send(`${this.root}/${path}`, { method: 'GET' }, caller), [200, 404]);
  }

  /** A query over one collection (`list` in the rules), optionally filtered on equality. */
  list(caller: Caller, collectionPath: string, where?: QueryFilter): Promise<Verdict> {
    const cut = collectionPath.lastIndexOf('/');
    const parent = cut === -1 ? '' : `/${collectionPath.slice(0, cut)}`;
    const collectionId = collectionPath.slice(cut + 1);
    return this.query(caller, parent, { collectionId }, where);
  }

  /** A collection-group query over every collection named `collectionId`. */
  collectionGroup(caller: Caller, collectionId: string, where?: QueryFilter): Promise<Verdict> {
    return this.query(caller, '', { collectionId, allDescendants: true }, where);
  }

  /** The SDK's `setDoc`: the whole document, no precondition (create or overwrite). */
  set(caller: Caller, path: string, data: DocData): Promise<Verdict> {
    const { fields, transforms, deleted } = splitSentinels(data);
    if (deleted.length > 0) throw new TypeError('deleteField() has no meaning in a set');
    return this.commit(caller, [
      {
        update: { name: this.name(path), fields: encodeFields(fields) },
        ...(transforms.length > 0 ? { updateTransforms: serverTimeTransforms(transforms) } : {}),
      },
    ]);
  }

  /** The SDK's `updateDoc`: only the named top-level fields change; the document must exist. */
  update(caller: Caller, path: string, patch: DocData): Promise<Verdict> {
    const { fields, transforms, deleted } = splitSentinels(patch);
    return this.commit(caller, [
      {
        update: { name: this.name(path), fields: encodeFields(fields) },
        updateMask: { fieldPaths: [...Object.keys(fields), ...deleted] },
        ...(transforms.length > 0 ? { updateTransforms: serverTimeTransforms(transforms) } : {}),
        currentDocument: { exists: true },
      },
    ]);
  }

  delete(caller: Caller, path: string): Promise<Verdict> {
    return this.commit(caller, [{ delete: this.name(path) }]);
  }

  /** Writes (rules bypassed) documents as the server would, in commits of at most 500. */
  async seed(docs: [path: string, data: DocData][]): Promise<void> {
    for (let i = 0; i < docs.length; i += 500) {
      const writes = docs.slice(i, i + 500).map(([path, data]) => {
        const { fields, transforms } = splitSentinels(data);
        return {
          update: { name: this.name(path), fields: encodeFields(fields) },
          ...(transforms.length > 0 ? { updateTransforms: serverTimeTransforms(transforms) } : {}),
        };
      });
      const verdict = await this.commit('owner', writes);
      if (!verdict.allowed) throw new Error(`seeding was refused: ${verdict.message}`);
    }
  }

  /** Deletes documents (rules bypassed), in commits of at most 500. */
  async remove(paths: string[]): Promise<void> {
    for (let i = 0; i < paths.length; i += 500) {
      const writes = paths.slice(i, i + 500).map((p) => ({ delete: this.name(p) }));
      const verdict = await this.commit('owner', writes);
      if (!verdict.allowed) throw new Error(`cleanup was refused: ${verdict.message}`);
    }
  }

  /** Whether a document exists, read past the rules. */
  async exists(path: string): Promise<boolean> {
    const response = await this.send(`${this.root}/${path}`, { method: 'GET' }, 'owner');
    await response.arrayBuffer();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw new TransportError(`reading ${path}: HTTP ${String(response.status)}`);
  }

  private query(
    caller: Caller,
    parent: string,
    from: { collectionId: string; allDescendants?: boolean },
    where?: QueryFilter,
  ): Promise<Verdict> {
    const structuredQuery = {
      from: [from],
      ...(where
        ? {
            where: {
              fieldFilter: {
                field: { fieldPath: where.field },
                op: 'EQUAL',
                value: { stringValue: where.value },
              },
            },
          }
        : {}),
    };
    return this.verdict(
      this.send(
        `${this.root}${parent}:runQuery`,
        { method: 'POST', body: { structuredQuery } },
        caller,
      ),
      [200],
    );
  }

  private commit(caller: Caller, writes: Json[]): Promise<Verdict> {
    return this.verdict(
      this.send(`${this.root}:commit`, { method: 'POST', body: { writes } }, caller),
      [200],
    );
  }

  private async send(
    url: string,
    init: { method: string; body?: unknown },
    caller: Caller,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (caller === 'owner') headers.Authorization = 'Bearer owner';
    else if (caller !== null) headers.Authorization = `Bearer ${caller.idToken}`;
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(url, {
        method: init.method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    } catch (err) {
      throw new TransportError(`${init.method} ${url} got no answer`, { cause: err });
    }
  }

  /** 403 PERMISSION_DENIED is a denial, `ok` statuses an allowance; anything else no verdict. */
  private async verdict(pending: Promise<Response>, ok: number[]): Promise<Verdict> {
    const response = await pending;
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw new TransportError('the answer was cut off', { cause: err });
    }
    if (ok.includes(response.status)) return { allowed: true };
    if (response.status === 403) {
      const body = JSON.parse(text) as { error?: { status?: string; message?: string } };
      if (body.error?.status === 'PERMISSION_DENIED') {
        return { allowed: false, message: body.error.message ?? '' };
      }
    }
    throw new TransportError(`HTTP ${String(response.status)}: ${text.slice(0, 500)}`);
  }
}

function serverTimeTransforms(fields: string[]): Json[] {
  return fields.map((fieldPath) => ({ fieldPath, setToServerValue: 'REQUEST_TIME' }));
}
