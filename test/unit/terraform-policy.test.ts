/**
 * Least privilege and data protection, checked on the Terraform configuration itself (parsed
 * offline, no provider): what the deployment must never do, whoever edits it next.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  allResources,
  block,
  blocks,
  commentAbove,
  dig,
  isConditional,
  loadTerraform,
  moduleAt,
  resolveLocal,
  ROOT,
  str,
  validatedMaximum,
  validatedMinimum,
  type Block,
  type TfModule,
} from './terraform-config';

let mods: TfModule[];
let functionsModule: TfModule;
let functions: Block[];

beforeAll(async () => {
  mods = await loadTerraform();
  functionsModule = moduleAt(mods, 'modules/functions');
  functions = allResources(mods, 'google_cloudfunctions2_function');
});

const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
const PRIMITIVE_ROLES = new Set(['roles/owner', 'roles/editor', 'roles/viewer']);

/** Every IAM grant: `*_iam_member`, `*_iam_binding` and `*_iam_policy` resources. */
function iamGrants(): Block[] {
  return allResources(mods).filter((r) => /_iam_(member|binding|policy)$/.test(r.type));
}

function ingress(fn: Block): unknown {
  return dig(fn.body, 'service_config', 'ingress_settings');
}

/** `${google_service_account.NAME.email}` or `${google_service_account.NAME[0].email}` → NAME. */
function serviceAccountOf(fn: Block): string | undefined {
  const email = str(dig(fn.body, 'service_config', 'service_account_email')) ?? '';
  return /^\$\{google_service_account\.([a-z0-9_]+)(?:\[0\])?\.email\}$/.exec(email)?.[1];
}

describe('buckets', () => {
  it('every bucket has uniform bucket-level access and enforced public access prevention', () => {
    const buckets = allResources(mods, 'google_storage_bucket');
    expect(buckets.map((b) => b.name).sort()).toEqual(['audit', 'documents', 'sources']);
    for (const bucket of buckets) {
      expect({ bucket: bucket.name, uniform: bucket.body.uniform_bucket_level_access }).toEqual({
        bucket: bucket.name,
        uniform: true,
      });
      expect({ bucket: bucket.name, pap: bucket.body.public_access_prevention }).toEqual({
        bucket: bucket.name,
        pap: 'enforced',
      });
      expect(bucket.body.force_destroy).toBe(false);
    }
  });

  it('no bucket is granted to the public', () => {
    for (const grant of allResources(mods, 'google_storage_bucket_iam_member')) {
      expect(PUBLIC_MEMBERS.has(str(grant.body.member) ?? '')).toBe(false);
    }
  });

  it('the documents bucket is encrypted with a customer-managed key and expires objects per retention', () => {
    const storage = moduleAt(mods, 'modules/storage');
    const documents = storage.resources.find((r) => r.name === 'documents');
    expect(dig(documents?.body, 'encryption', 'default_kms_key_name')).toBe(
      '${var.documents_kms_key}',
    );
    const deletes = blocks(documents?.body.lifecycle_rule).filter(
      (rule) => dig(rule, 'action', 'type') === 'Delete',
    );
    expect(deletes.map((rule) => dig(rule, 'condition', 'age'))).toEqual([
      '${var.documents_retention_days}',
    ]);
  });

  it('the audit bucket keeps evidence at least 7 years, with object retention enabled and a lockable policy', () => {
    const storage = moduleAt(mods, 'modules/storage');
    const audit = storage.resources.find((r) => r.name === 'audit');
    expect(audit?.body.enable_object_retention).toBe(true);
    expect(dig(audit?.body, 'retention_policy', 'retention_period')).toBe(
      '${var.audit_retention_days * 86400}',
    );
    // The variable's own validation refuses anything shorter, whatever a caller passes.
    expect(
      validatedMinimum(storage.variables.audit_retention_days, 'audit_retention_days'),
    ).toBeGreaterThanOrEqual(2557);
    expect(storage.variables.audit_retention_days?.default).toBeUndefined();
    expect(dig(audit?.body, 'retention_policy', 'is_locked')).toBe('${var.lock_audit_retention}');
    expect(storage.variables.lock_audit_retention?.type).toBe('${bool}');
    // Cloud Storage refuses Object Versioning on a bucket with a retention policy.
    expect(dig(audit?.body, 'versioning', 'enabled')).not.toBe(true);
  });

  it('the functions export evidence with the same retention the bucket enforces', () => {
    const platform = moduleAt(mods, 'modules/platform');
    const storageCall = platform.calls.find((c) => c.target === 'modules/storage');
    const functionsCall = platform.calls.find((c) => c.target === 'modules/functions');
    expect(storageCall?.body.audit_retention_days).toBe('${var.evidence_retention_days}');
    expect(functionsCall?.body.evidence_retention_days).toBe('${var.evidence_retention_days}');
    expect(
      validatedMinimum(platform.variables.evidence_retention_days, 'evidence_retention_days'),
    ).toBeGreaterThanOrEqual(2557);
  });

  it('the audit log bucket keeps entries at least 7 years and is lockable', () => {
    const logs = moduleAt(mods, 'modules/audit-logs');
    const bucket = logs.resources.find((r) => r.type === 'google_logging_project_bucket_config');
    expect(bucket?.body.retention_days).toBe('${var.retention_days}');
    expect(
      validatedMinimum(logs.variables.retention_days, 'retention_days'),
    ).toBeGreaterThanOrEqual(2557);
    expect(bucket?.body.locked).toBe('${var.locked}');
    const sink = logs.resources.find((r) => r.type === 'google_logging_project_sink');
    expect(str(sink?.body.filter)).toContain('cloudaudit.googleapis.com');
  });
});

describe('functions', () => {
  it('each function runs as its own service account', () => {
    const accounts = functions.map((fn) => ({ fn: fn.name, sa: serviceAccountOf(fn) }));
    for (const { fn, sa } of accounts)
      expect({ fn, sa: sa ?? 'none' }).not.toEqual({ fn, sa: 'none' });
    const names = accounts.map((a) => a.sa);
    expect(new Set(names).size).toBe(names.length);
    // Nor is a function's account anyone else's: not the build account, not a push account.
    expect(names).not.toContain('builder');
    expect(names).not.toContain('push');
  });

  it("every function's runtime is the Node major package.json pins", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    const engineMajor = /^>=\s*(\d+)\s+<\s*(\d+)$/.exec(pkg.engines.node);
    expect(Number(engineMajor?.[2]) - Number(engineMajor?.[1])).toBe(1);
    const major = engineMajor?.[1];
    // The `node` devDependency is the binary every npm script runs: the same major.
    expect(/^\^?(\d+)\./.exec(pkg.devDependencies.node ?? '')?.[1]).toBe(major);
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const fn of functions) {
      const mod = moduleAt(mods, fn.module);
      expect({
        fn: fn.name,
        runtime: resolveLocal(mod, dig(fn.body, 'build_config', 'runtime')),
      }).toEqual({
        fn: fn.name,
        runtime: `nodejs${String(major)}`,
      });
    }
  });

  it('only api allows unauthenticated invocation', () => {
    const publicGrants = iamGrants().filter((g) => PUBLIC_MEMBERS.has(str(g.body.member) ?? ''));
    expect(publicGrants.map((g) => [g.type, g.body.role, g.body.name])).toEqual([
      [
        'google_cloud_run_v2_service_iam_member',
        'roles/run.invoker',
        '${google_cloudfunctions2_function.api.name}',
      ],
    ]);
    // Nor through an authoritative binding or policy that could list the public.
    expect(allResources(mods).filter((r) => /_iam_(binding|policy)$/.test(r.type))).toEqual([]);
  });

  it('api is the only function with public ingress; every other accepts internal traffic only', () => {
    for (const fn of functions) {
      expect({ fn: fn.name, ingress: ingress(fn) }).toEqual({
        fn: fn.name,
        ingress: fn.name === 'api' ? 'ALLOW_ALL' : 'ALLOW_INTERNAL_ONLY',
      });
    }
  });

  it('every Pub/Sub-driven function is invoked only by its own push service account', () => {
    const invokers = allResources(mods, 'google_cloud_run_v2_service_iam_member');
    // In the functions module: api's public grant and ops' named operators, nothing else.
    expect(
      invokers
        .filter((g) => g.module === 'modules/functions')
        .map((g) => [g.name, g.body.member])
        .sort(),
    ).toEqual([
      ['api_public', 'allUsers'],
      ['ops_invoker', '${each.value}'],
    ]);
    const opsInvokers = functionsModule.variables.ops_invokers;
    const condition = str(block(opsInvokers?.validation)?.condition) ?? '';
    expect(condition).toContain('^(group|user|serviceAccount):');
    // The push trigger grants run.invoker to the account it creates, on its function only.
    const trigger = moduleAt(mods, 'modules/push-trigger');
    const triggerGrants = trigger.resources.filter((r) => r.type.endsWith('_iam_member'));
    const invoker = triggerGrants.find((g) => g.body.role === 'roles/run.invoker');
    expect(invoker?.body.member).toBe('serviceAccount:${google_service_account.push.email}');
    expect(invoker?.body.name).toBe('${var.function_name}');
    expect(
      dig(
        trigger.resources.find((r) => r.type === 'google_pubsub_subscription')?.body,
        'push_config',
        'oidc_token',
        'service_account_email',
      ),
    ).toBe('${google_service_account.push.email}');
    // Each internal function except ops has exactly one trigger, aimed at it, with its own account.
    const calls = functionsModule.calls.filter((c) => c.target === 'modules/push-trigger');
    for (const fn of functions.filter((f) => f.name !== 'api' && f.name !== 'ops')) {
      const mine = calls.filter((c) =>
        new RegExp(`^\\$\\{google_cloudfunctions2_function\\.${fn.name}(\\[0\\])?\\.name\\}$`).test(
          str(c.body.function_name) ?? '',
        ),
      );
      expect({ fn: fn.name, triggers: mine.length }).toEqual({ fn: fn.name, triggers: 1 });
    }
    const pushAccounts = calls.map((c) => c.body.push_account_id);
    expect(new Set(pushAccounts).size).toBe(pushAccounts.length);
  });
});

describe('Pub/Sub', () => {
  it('every subscription pushes with OIDC auth and has a dead-letter policy', () => {
    const subscriptions = allResources(mods, 'google_pubsub_subscription');
    expect(subscriptions.length).toBeGreaterThan(0);
    for (const sub of subscriptions) {
      expect(dig(sub.body, 'dead_letter_policy', 'dead_letter_topic')).toEqual(expect.any(String));
      expect(dig(sub.body, 'dead_letter_policy', 'max_delivery_attempts')).toBeDefined();
      expect(dig(sub.body, 'push_config', 'push_endpoint')).toEqual(expect.any(String));
      expect(dig(sub.body, 'push_config', 'oidc_token', 'service_account_email')).toEqual(
        expect.any(String),
      );
      expect(dig(sub.body, 'push_config', 'oidc_token', 'audience')).toEqual(expect.any(String));
    }
    // Every trigger names a dead-letter topic other than the one it consumes.
    for (const call of mods
      .flatMap((m) => m.calls)
      .filter((c) => c.target === 'modules/push-trigger')) {
      expect(call.body.dead_letter_topic_id).not.toEqual(call.body.topic_id);
    }
  });
});

describe('IAM', () => {
  it('grants no primitive role anywhere', () => {
    const roles = iamGrants().map((g) => str(g.body.role) ?? '');
    expect(roles.length).toBeGreaterThan(20);
    expect(roles.filter((r) => PRIMITIVE_ROLES.has(r))).toEqual([]);
  });

  it('every IAM grant carries a comment giving its reason', () => {
    for (const grant of iamGrants()) {
      const mod = moduleAt(mods, grant.module);
      expect({
        grant: `${grant.module}/${grant.type}.${grant.name}`,
        reason: /^Reason: \S/.test(commentAbove(mod, grant)),
      }).toEqual({
        grant: `${grant.module}/${grant.type}.${grant.name}`,
        reason: true,
      });
    }
  });

  /**
   * Roles that exist only at project level. Each project-wide grant is either one of these or
   * carries a condition narrowing it to one resource (Firestore grants name their database).
   */
  const PROJECT_ONLY_ROLES: Record<string, string> = {
    'roles/logging.logWriter': 'Cloud Build writes build logs to the project',
    'roles/firebaseauth.admin': 'Identity Platform user management is project-wide',
    'roles/firebaseauth.viewer': 'Identity Platform user reads are project-wide',
    '${var.kms_roles.key_ring_ensurer}':
      'createKeyRing is checked on the location, a project child',
  };

  it('every project-level grant is conditioned to one resource or holds a project-only role', () => {
    for (const grant of allResources(mods, 'google_project_iam_member')) {
      const role = str(grant.body.role) ?? '';
      const mod = moduleAt(mods, grant.module);
      const condition = str(resolveLocal(mod, dig(grant.body, 'condition', 'expression')));
      const scoped = condition !== undefined && /resource\.name ==/.test(condition);
      expect({ grant: grant.name, role, ok: scoped || role in PROJECT_ONLY_ROLES }).toEqual({
        grant: grant.name,
        role,
        ok: true,
      });
    }
  });

  it('every secret accessor is bound to one function, on one secret, and each function reads only what it is granted', () => {
    const accessors = allResources(mods).filter(
      (r) => str(r.body.role)?.startsWith('roles/secretmanager.') === true,
    );
    expect(accessors.length).toBeGreaterThan(0);
    const granted = new Map<string, Set<string>>();
    for (const grant of accessors) {
      // Only on a secret, never the project.
      expect(grant.type).toBe('google_secret_manager_secret_iam_member');
      expect(grant.body.role).toBe('roles/secretmanager.secretAccessor');
      const fn = /^\$\{local\.member\.([a-z_]+)\}$/.exec(str(grant.body.member) ?? '')?.[1];
      const secret = /^\$\{var\.secret_ids\["([a-z0-9-]+)"\]\}$/.exec(
        str(grant.body.secret_id) ?? '',
      )?.[1];
      expect({ grant: grant.name, fn, secret }).toEqual({
        grant: grant.name,
        fn: expect.any(String) as unknown,
        secret: expect.any(String) as unknown,
      });
      if (fn && secret) granted.set(fn, new Set([...(granted.get(fn) ?? []), secret]));
    }
    for (const fn of functions) {
      const read = new Set(
        blocks(dig(fn.body, 'service_config', 'secret_environment_variables')).map(
          (s) => /^\$\{var\.secret_names\["([a-z0-9-]+)"\]\}$/.exec(str(s.secret) ?? '')?.[1],
        ),
      );
      const key = fn.name.replaceAll('-', '_');
      expect({ fn: fn.name, secrets: [...read].sort() }).toEqual({
        fn: fn.name,
        secrets: [...(granted.get(key) ?? [])].sort(),
      });
    }
  });

  it('only the ops account may create tenant keys, and only in the platform key ring', () => {
    const creators = iamGrants().filter(
      (g) => g.body.role === '${var.kms_roles.tenant_key_creator}',
    );
    expect(creators.map((g) => [g.type, g.body.key_ring_id, g.body.member])).toEqual([
      ['google_kms_key_ring_iam_member', '${var.key_ring}', '${local.member.ops}'],
    ]);
    const roles = allResources(mods, 'google_project_iam_custom_role');
    const withCreate = roles.filter((r) =>
      (r.body.permissions as string[]).includes('cloudkms.cryptoKeys.create'),
    );
    expect(withCreate.map((r) => r.name)).toEqual(['tenant_key_creator']);
    // The predefined roles that can create keys also rewrite key IAM: never granted.
    const kmsAdmin = iamGrants().filter((g) =>
      ['roles/cloudkms.admin', 'roles/cloudkms.cryptoOperator'].includes(str(g.body.role) ?? ''),
    );
    expect(kmsAdmin).toEqual([]);
    for (const role of roles) {
      for (const permission of role.body.permissions as string[]) {
        expect(permission).not.toMatch(/setIamPolicy|\*/);
      }
    }
  });

  it('no service account key is created (functions use their attached identity)', () => {
    expect(allResources(mods, 'google_service_account_key')).toEqual([]);
  });
});

describe('keys and data', () => {
  it('every symmetric KMS key rotates automatically, at most yearly (90 days by default)', () => {
    const keys = allResources(mods, 'google_kms_crypto_key');
    const symmetric = keys.filter(
      (k) => (k.body.purpose ?? 'ENCRYPT_DECRYPT') === 'ENCRYPT_DECRYPT',
    );
    expect(symmetric.length).toBeGreaterThanOrEqual(2);
    for (const key of symmetric) {
      const mod = moduleAt(mods, key.module);
      expect(key.body.rotation_period).toBe('${var.rotation_days * 86400}s');
      expect(validatedMaximum(mod.variables.rotation_days, 'rotation_days')).toBeLessThanOrEqual(
        365,
      );
      expect(mod.variables.rotation_days?.default).toBe(90);
    }
  });

  it('the only key without a rotation period is the asymmetric sealing key, which KMS cannot auto-rotate', () => {
    const unrotated = allResources(mods, 'google_kms_crypto_key').filter(
      (k) => k.body.rotation_period === undefined,
    );
    expect(unrotated.map((k) => [k.name, k.body.purpose])).toEqual([
      ['evidence_sealing', 'ASYMMETRIC_SIGN'],
    ]);
  });

  it('tenant KEKs, which the code creates, get a 90-day rotation period from onboarding', () => {
    const onboarding = readFileSync(
      path.join(ROOT, 'functions/src/lifecycle/onboarding.ts'),
      'utf8',
    );
    expect(onboarding).toMatch(/const KEK_ROTATION_SECONDS = 90 \* 24 \* 3600;/);
  });

  it('every key is protected from terraform destroy', () => {
    for (const key of allResources(mods, 'google_kms_crypto_key')) {
      expect(dig(key.body, 'lifecycle', 'prevent_destroy')).toBe(true);
    }
  });

  it('every Firestore database is native, with delete protection and point-in-time recovery', () => {
    const databases = allResources(mods, 'google_firestore_database');
    expect(databases.length).toBeGreaterThan(0);
    for (const db of databases) {
      expect(db.body.type).toBe('FIRESTORE_NATIVE');
      expect(db.body.delete_protection_state).toBe('DELETE_PROTECTION_ENABLED');
      expect(db.body.point_in_time_recovery_enablement).toBe('POINT_IN_TIME_RECOVERY_ENABLED');
      expect(db.body.deletion_policy).toBe('ABANDON');
    }
  });

  it("a dedicated tenant's database is its own, encrypted with its own key", () => {
    const tenant = moduleAt(mods, 'modules/enterprise-tenant');
    const db = tenant.calls.find((c) => c.target === 'modules/firestore');
    expect(db?.body.database_id).toBe('${local.database_id}');
    expect(db?.body.cmek_key_name).toBe('${google_kms_crypto_key.database.id}');
    for (const env of ['envs/staging', 'envs/production']) {
      const call = moduleAt(mods, env).calls.find((c) => c.target === 'modules/enterprise-tenant');
      expect(call?.body.for_each).toBe('${var.enterprise_tenants}');
    }
  });

  it('the Firestore rules released are the repository file', () => {
    const firestore = moduleAt(mods, 'modules/firestore');
    const ruleset = firestore.resources.find((r) => r.type === 'google_firebaserules_ruleset');
    expect(dig(ruleset?.body, 'source', 'files', 'content')).toBe('${file(var.rules_file)}');
    for (const env of ['envs/staging', 'envs/production']) {
      const call = moduleAt(mods, env).calls.find((c) => c.target === 'modules/platform');
      const rules = str(call?.body.rules_file) ?? '';
      expect(path.resolve(TERRAFORM_ENV(env), rules.replace('${path.root}', '.'))).toBe(
        path.join(ROOT, 'firestore.rules'),
      );
    }
  });

  it('Identity Platform allows tenants', () => {
    const identity = moduleAt(mods, 'modules/identity');
    const config = identity.resources.find((r) => r.type === 'google_identity_platform_config');
    expect(dig(config?.body, 'multi_tenant', 'allow_tenants')).toBe(true);
  });
});

function TERRAFORM_ENV(env: string): string {
  return path.join(ROOT, 'terraform', env);
}

describe('variables and outputs', () => {
  it('every variable has a description and a type, and every non-boolean one a validation', () => {
    for (const mod of mods) {
      for (const [name, variable] of Object.entries(mod.variables)) {
        const where = `${mod.dir} var.${name}`;
        expect({ where, description: typeof variable.description }).toEqual({
          where,
          description: 'string',
        });
        expect({ where, typed: typeof variable.type }).toEqual({ where, typed: 'string' });
        if (variable.type !== '${bool}') {
          expect({ where, validations: blocks(variable.validation).length > 0 }).toEqual({
            where,
            validations: true,
          });
        }
      }
    }
  });

  it('each environment outputs the URLs and bucket names', () => {
    for (const env of ['envs/staging', 'envs/production']) {
      const outputs = moduleAt(mods, env).outputs;
      for (const name of ['api_url', 'ops_url', 'documents_bucket', 'audit_bucket']) {
        expect({ env, name, description: typeof outputs[name]?.description }).toEqual({
          env,
          name,
          description: 'string',
        });
      }
    }
  });

  it('has no conditional resources: every environment deploys the same functions', () => {
    const conditional = functionsModule.resources.filter(
      (r) => isConditional(r.body) && r.body.count !== undefined,
    );
    expect(conditional.map((r) => r.name)).toEqual([]);
  });
});
