/**
 * The deployment's Terraform, parsed offline (`@cdktf/hcl2json`, HCL → JSON in WASM) for the
 * policy tests in test/unit/terraform-*.test.ts. No provider is involved: the tests read the
 * configuration as written, the way a reviewer does, and expressions stay strings (`${var.x}`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Loaded without its type declarations: they pull in the DOM lib (`/// <reference lib="dom" />`
 * in lib/bridge.d.ts), which would retype `fetch` for the whole program. The one function used
 * is typed here.
 */
const { parse } = createRequire(__filename)('@cdktf/hcl2json') as {
  parse: (filename: string, contents: string) => Promise<unknown>;
};

export const ROOT = path.join(__dirname, '..', '..');
export const TERRAFORM_DIR = path.join(ROOT, 'terraform');

export type Body = Record<string, unknown>;

/** A resource or data block. */
export interface Block {
  type: string;
  name: string;
  body: Body;
  /** The module directory relative to terraform/, e.g. `modules/functions`. */
  module: string;
  file: string;
}

/** A `module "name" {}` call. */
export interface ModuleCall {
  name: string;
  body: Body;
  module: string;
  file: string;
  /** The called module's directory relative to terraform/. */
  target: string;
}

export interface TfModule {
  dir: string;
  files: { name: string; text: string }[];
  resources: Block[];
  data: Block[];
  calls: ModuleCall[];
  variables: Record<string, Body>;
  locals: Record<string, unknown>;
  outputs: Record<string, Body>;
}

function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** hcl2json wraps every block in an array; this takes the (single) block. */
export function block(value: unknown): Body | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return isBody(first) ? first : undefined;
}

/** Every instance of a repeated nested block (`fields {}` twice → two bodies). */
export function blocks(value: unknown): Body[] {
  if (Array.isArray(value)) return value.filter(isBody);
  return isBody(value) ? [value] : [];
}

/** Follows nested blocks and attributes: dig(fn, 'service_config', 'ingress_settings'). */
export function dig(body: Body | undefined, ...keys: string[]): unknown {
  let value: unknown = body;
  for (const key of keys) {
    const current = block(value);
    if (!current) return undefined;
    value = current[key];
  }
  return value;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function entries(value: unknown): [string, unknown][] {
  return isBody(value) ? Object.entries(value) : [];
}

async function parseModule(dir: string): Promise<TfModule> {
  const rel = path.relative(TERRAFORM_DIR, dir);
  const mod: TfModule = {
    dir: rel,
    files: [],
    resources: [],
    data: [],
    calls: [],
    variables: {},
    locals: {},
    outputs: {},
  };
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort();
  for (const name of names) {
    const text = readFileSync(path.join(dir, name), 'utf8');
    mod.files.push({ name, text });
    const parsed = await parse(name, text);
    if (!isBody(parsed)) continue;
    for (const [kind, target] of [
      ['resource', mod.resources],
      ['data', mod.data],
    ] as const) {
      for (const [type, byName] of entries(parsed[kind])) {
        for (const [blockName, value] of entries(byName)) {
          const body = block(value);
          if (body) target.push({ type, name: blockName, body, module: rel, file: name });
        }
      }
    }
    for (const [callName, value] of entries(parsed.module)) {
      const body = block(value);
      const source = str(body?.source);
      if (body && source) {
        const target = path.relative(TERRAFORM_DIR, path.resolve(dir, source));
        mod.calls.push({ name: callName, body, module: rel, file: name, target });
      }
    }
    for (const [varName, value] of entries(parsed.variable)) {
      const body = block(value);
      if (body) mod.variables[varName] = body;
    }
    for (const [outName, value] of entries(parsed.output)) {
      const body = block(value);
      if (body) mod.outputs[outName] = body;
    }
    for (const locals of blocks(parsed.locals)) Object.assign(mod.locals, locals);
  }
  return mod;
}

function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .map((d) => path.join(dir, d))
    .filter((d) => statSync(d).isDirectory())
    .sort();
}

let loaded: Promise<TfModule[]> | undefined;

/** Every module under terraform/modules and every environment under terraform/envs. */
export function loadTerraform(): Promise<TfModule[]> {
  loaded ??= Promise.all(
    [
      ...subdirs(path.join(TERRAFORM_DIR, 'modules')),
      ...subdirs(path.join(TERRAFORM_DIR, 'envs')),
    ].map(parseModule),
  );
  return loaded;
}

export function allResources(mods: TfModule[], type?: string): Block[] {
  return mods.flatMap((m) => m.resources).filter((r) => type === undefined || r.type === type);
}

export function moduleAt(mods: TfModule[], dir: string): TfModule {
  const mod = mods.find((m) => m.dir === dir);
  if (!mod) throw new Error(`no Terraform module at terraform/${dir}`);
  return mod;
}

/** `${local.name}` → the local's value in the same module; anything else as written. */
export function resolveLocal(mod: TfModule, value: unknown): unknown {
  const match = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(str(value) ?? '');
  return match?.[1] === undefined ? value : mod.locals[match[1]];
}

/** A block created only under a condition (`count` or `for_each`). */
export function isConditional(body: Body): boolean {
  return body.count !== undefined || body.for_each !== undefined;
}

/**
 * The smallest value a variable's own validation lets through, when one of its conditions says
 * `var.NAME >= N` (or `>`): Terraform refuses anything below at plan time, whoever passes it.
 */
export function validatedMinimum(variable: Body | undefined, name: string): number | undefined {
  const floors = blocks(variable?.validation).flatMap((v) => {
    const match = new RegExp(`var\\.${name}\\s*(>=|>)\\s*(\\d+)`).exec(str(v.condition) ?? '');
    if (!match?.[2]) return [];
    return [Number(match[2]) + (match[1] === '>' ? 1 : 0)];
  });
  return floors.length === 0 ? undefined : Math.max(...floors);
}

/** Like validatedMinimum, for `var.NAME <= N` (or `<`). */
export function validatedMaximum(variable: Body | undefined, name: string): number | undefined {
  const ceilings = blocks(variable?.validation).flatMap((v) => {
    const match = new RegExp(`var\\.${name}\\s*(<=|<)\\s*(\\d+)`).exec(str(v.condition) ?? '');
    if (!match?.[2]) return [];
    return [Number(match[2]) - (match[1] === '<' ? 1 : 0)];
  });
  return ceilings.length === 0 ? undefined : Math.min(...ceilings);
}

/** The text of the resource block `resource "TYPE" "NAME"` and the comment lines above it. */
export function commentAbove(mod: TfModule, r: Block): string {
  const file = mod.files.find((f) => f.name === r.file);
  const lines = file?.text.split('\n') ?? [];
  const at = lines.findIndex((l) => l.startsWith(`resource "${r.type}" "${r.name}"`));
  const comment: string[] = [];
  for (let i = at - 1; i >= 0; i--) {
    const line = lines[i]?.trim() ?? '';
    if (!line.startsWith('#')) break;
    comment.unshift(line.replace(/^#\s?/, ''));
  }
  return comment.join(' ');
}
