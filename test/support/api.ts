import { setTimeout as sleep } from 'node:timers/promises';
import { readStackFile, type StackFile } from '../../scripts/local/stack-file';

export function stack(): StackFile {
  return readStackFile();
}

export function tenantKey(index: number): { id: string; apiKey: string } {
  const tenant = stack().tenants[index];
  if (!tenant) throw new Error(`the stack seeded no tenant #${String(index)}`);
  return tenant;
}

export interface ApiReply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One request to the `api` function, as a customer's server would send it. */
export async function callApi(
  path: string,
  options: {
    method?: string;
    key?: string;
    body?: unknown;
    rawBody?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiReply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.Authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${stack().apiUrl}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text: the assertion that follows will say what came back.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${String(timeoutMs)} ms`);
    await sleep(200);
  }
}

export interface ExtractionBody {
  id: string;
  status: string;
  result?: {
    fields: Record<
      string,
      {
        value: unknown;
        source: { text: string; start: number; end: number } | null;
        grounded: boolean;
      }
    >;
    issues: unknown[];
  };
  evidenceId?: string;
  model?: { provider: string; model: string; modelVersion: string };
  error?: { code: string };
}

export async function waitForTerminal(
  id: string,
  key: string,
  timeoutMs = 30_000,
): Promise<ExtractionBody> {
  return eventually(async () => {
    const reply = await callApi(`/v1/extractions/${id}`, { key });
    const body = reply.body as ExtractionBody;
    return body.status === 'succeeded' || body.status === 'failed' ? body : undefined;
  }, timeoutMs);
}
