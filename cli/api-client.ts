/**
 * The CLI talks to a running Cadence API (CADENCE_API_URL, default http://127.0.0.1:3000) with an API key
 * (CADENCE_API_KEY), so every change it makes is authorized and audited like any other client's.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
    this.name = 'CliError'
  }
}

export interface ApiTarget {
  baseUrl: string
  key: string
}

export function apiTarget(env: Record<string, string | undefined> = process.env): ApiTarget {
  const key = env['CADENCE_API_KEY']
  if (key === undefined || key === '') throw new CliError('set CADENCE_API_KEY to an API key (create one with `cadence keys create`)', 2)
  return { baseUrl: (env['CADENCE_API_URL'] ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''), key }
}

export async function api(target: ApiTarget, method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${target.key}`, ...init.headers }
  let body: RequestInit['body'] | undefined
  if (init.body !== undefined) {
    if (typeof init.body === 'object' && init.body !== null && (Symbol.asyncIterator in init.body || init.body instanceof ReadableStream)) {
      body = init.body as RequestInit['body']
    } else {
      headers['content-type'] ??= 'application/json'
      body = JSON.stringify(init.body)
    }
  }
  let res: Response
  try {
    res = await fetch(`${target.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body, duplex: 'half' } : {}) } as RequestInit)
  } catch (err) {
    throw new CliError(`cannot reach the API at ${target.baseUrl} (${(err as Error).message}); is it running? (CADENCE_API_URL)`)
  }
  return res
}

/** The JSON of a 2xx answer, or a CliError carrying the problem details' words. */
export async function expectOk<T>(res: Response): Promise<T> {
  if (res.ok) return (await res.json()) as T
  let detail = `${res.status} ${res.statusText}`
  try {
    const p = (await res.json()) as { title?: string; detail?: string; errors?: Array<{ field: string; message: string }> }
    detail = `${res.status} ${p.title ?? ''}: ${p.detail ?? ''}${p.errors ? ` (${p.errors.map((e) => `${e.field} ${e.message}`).join('; ')})` : ''}`
  } catch {
    // not problem details: keep the status line
  }
  throw new CliError(detail)
}
