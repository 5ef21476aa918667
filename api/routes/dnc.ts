/**
 * /v1/dnc: do-not-call entries (whole numbers or prefixes, global or per campaign). PostgreSQL holds the durable copy
 * and the engine screens against the Redis mirror, so every write changes both: the SQL change commits only after
 * Redis took it, and a Redis failure rolls it back (503), so the two never disagree about an entry we report as done.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { DncWriteResult } from '../../engine/store/redis/dnc-store.js'
import { normalizeDncPrefix } from '../../engine/screening/dnc.js'
import { parsePhone } from '../../engine/screening/number.js'
import type { Db } from '../../engine/store/sql/db.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import type { DncEntry, DncKind, NewDncEntry } from '../../engine/store/sql/dnc.js'
import type { SourceRow } from '../../engine/store/sql/lead-importer.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { csvRows } from '../imports/csv-rows.js'
import { principalOf, type Principal } from '../plugins/auth.js'
import { HttpProblem, invalidField, notFound, ProblemTypes } from '../problem.js'
import { addDncSchema, dncEntrySchema, importDncSchema, listDncSchema, removeDncSchema } from '../schemas/dnc.js'
import { problemResponses } from '../schemas/problem.js'

/** What the routes need of the Redis DNC store the engine reads (RedisDncStore fits). */
export interface DncMirror {
  addNumbers(scope: { campaignId?: string }, numbers: readonly string[]): Promise<DncWriteResult>
  removeNumbers(scope: { campaignId?: string }, numbers: readonly string[]): Promise<DncWriteResult>
  addPrefixes(scope: { campaignId?: string }, prefixes: readonly string[]): Promise<DncWriteResult>
  removePrefixes(scope: { campaignId?: string }, prefixes: readonly string[]): Promise<DncWriteResult>
}

/**
 * Copy every PostgreSQL entry into the Redis lists (idempotent SADDs): after Redis lost its data, or at start-up, so the
 * engine never screens against less than the durable copy. Entries removed from PostgreSQL are not removed from Redis
 * here (a stale block errs on the safe side). Returns how many entries were pushed.
 */
export async function syncDncMirror(db: Db, pii: PiiCipher, mirror: DncMirror, batch = 5000): Promise<{ entries: number }> {
  const repo = repositories(db, pii).dnc
  let after = ''
  let entries = 0
  for (;;) {
    const page = await repo.page(after, batch)
    const groups = new Map<string, { numbers: string[]; prefixes: string[] }>()
    for (const e of page) {
      const key = e.campaignId ?? ''
      let g = groups.get(key)
      if (!g) groups.set(key, (g = { numbers: [], prefixes: [] }))
      ;(e.kind === 'number' ? g.numbers : g.prefixes).push(e.number)
    }
    for (const [key, g] of groups) {
      const scope = key === '' ? {} : { campaignId: key }
      if (g.numbers.length > 0) await mirror.addNumbers(scope, g.numbers)
      if (g.prefixes.length > 0) await mirror.addPrefixes(scope, g.prefixes)
    }
    entries += page.length
    if (page.length < batch) return { entries }
    after = page[page.length - 1]!.id
  }
}

export interface DncRoutesOptions {
  db: Db
  /** Listed numbers are sealed in PostgreSQL. */
  pii: PiiCipher
  /** Absent: the DNC routes answer 503 (nothing would reach the engine). */
  mirror?: DncMirror
}

const Writers = { roles: ['admin', 'supervisor'] } as const
const Readers = { roles: ['admin', 'supervisor', 'qa'] } as const

function view(e: DncEntry): Record<string, unknown> {
  return { ...e, scope: e.campaignId === undefined ? 'global' : 'campaign', createdAt: new Date(e.createdAt).toISOString() }
}

/** A number or prefix as stored, or why it cannot be. */
function normalize(kind: DncKind, raw: string, region: string | undefined): string | { error: string } {
  if (kind === 'prefix') {
    return normalizeDncPrefix(raw) ?? { error: 'not a number prefix: want "+<2-15 digits>" (trailing X wildcards allowed)' }
  }
  const p = parsePhone(raw, region)
  return p.ok ? p.phone.e164 : { error: `${p.code}: ${p.reason}` }
}

function mirrorUnavailable(err?: unknown): HttpProblem {
  return new HttpProblem(503, 'DNC store unavailable', `the Redis DNC store the engine reads did not take the change; nothing was changed${err instanceof Error ? ` (${err.message})` : ''}`, {
    type: ProblemTypes.notReady,
  })
}

const CsvTypes = ['text/csv', 'application/csv']
const NumberHeaders = ['number', 'phone', 'phonenumber', 'mobile', 'tel', 'telephone', 'msisdn', '电话', '手机', '手机号', '号码']

export async function dncRoutes(app: FastifyInstance, options: DncRoutesOptions): Promise<void> {
  const { db, pii } = options
  const repos = repositories(db, pii)
  app.addSchema(dncEntrySchema)
  app.addContentTypeParser(CsvTypes, (_request, payload, done) => done(null, payload))

  const requireMirror = (): DncMirror => {
    if (!options.mirror) throw mirrorUnavailable()
    return options.mirror
  }
  const requireCampaign = async (campaignId: string | undefined, field: string, p?: Principal): Promise<void> => {
    if (campaignId === undefined) return
    const c = await repos.campaigns.get(campaignId)
    // Another site's campaign is as missing as an unknown one.
    if (!c || (p !== undefined && p.siteId !== null && c.siteId !== p.siteId)) {
      throw new HttpProblem(404, 'Not found', `${field}: campaign ${JSON.stringify(campaignId)} does not exist`, { type: ProblemTypes.notFound })
    }
  }

  /** Write entries to PostgreSQL and Redis together; returns the entries that were new. */
  const addEntries = async (entries: readonly NewDncEntry[], actor: string): Promise<DncEntry[]> => {
    const mirror = requireMirror()
    return db.transaction(async (tx) => {
      const r = repositories(tx, pii)
      const added = await r.dnc.addMany(entries)
      try {
        // Mirror every entry, not only the new ones: an entry in SQL but missing on Redis (a lost Redis) heals here.
        for (const scopeKey of new Set(entries.map((e) => e.campaignId ?? ''))) {
          const scope = scopeKey === '' ? {} : { campaignId: scopeKey }
          const inScope = entries.filter((e) => (e.campaignId ?? '') === scopeKey)
          const numbers = inScope.filter((e) => e.kind === 'number').map((e) => e.number)
          const prefixes = inScope.filter((e) => e.kind === 'prefix').map((e) => e.number)
          if (numbers.length > 0) await mirror.addNumbers(scope, numbers)
          if (prefixes.length > 0) await mirror.addPrefixes(scope, prefixes)
        }
      } catch (err) {
        throw mirrorUnavailable(err)
      }
      if (added.length > 0) {
        await r.audit.append({ actor, action: 'dnc-add', entity: 'dnc', detail: { count: added.length, ids: added.slice(0, 20).map((e) => e.id) } })
      }
      return added
    })
  }

  app.post<{ Body: { number?: string; prefix?: string; campaignId?: string; region?: string; reason?: string } }>(
    '/v1/dnc',
    { schema: addDncSchema, config: { auth: Writers } },
    async (request, reply) => {
      const b = request.body
      if ((b.number === undefined) === (b.prefix === undefined)) {
        throw invalidField(b.number === undefined ? 'body.number' : 'body.prefix', 'give exactly one of number and prefix')
      }
      const kind: DncKind = b.number !== undefined ? 'number' : 'prefix'
      const normalized = normalize(kind, (b.number ?? b.prefix)!, b.region)
      if (typeof normalized !== 'string') throw invalidField(`body.${kind}`, normalized.error)
      await requireCampaign(b.campaignId, 'body.campaignId', principalOf(request))
      const entry: NewDncEntry = { kind, number: normalized, source: 'api' }
      if (b.campaignId !== undefined) entry.campaignId = b.campaignId
      if (b.reason !== undefined) entry.reason = b.reason
      const [added] = await addEntries([entry], principalOf(request).actor)
      if (added) return reply.code(201).header('location', `/v1/dnc/${encodeURIComponent(added.id)}`).send(view(added))
      const existing = await repos.dnc.find(b.campaignId, kind, normalized)
      return reply.code(200).send(view(existing!))
    },
  )

  app.get<{
    Querystring: { scope: 'global' | 'campaign' | 'all'; campaignId?: string; kind?: DncKind; number?: string; region?: string; limit: number; offset: number }
  }>('/v1/dnc', { schema: listDncSchema, config: { auth: Readers } }, async (request) => {
    const q = request.query
    let scope: 'global' | 'campaign' | 'all' = q.scope
    if (q.campaignId !== undefined) {
      if (scope === 'global') throw invalidField('querystring.campaignId', 'does not go with scope=global')
      scope = 'campaign'
    } else if (scope === 'campaign') throw invalidField('querystring.campaignId', 'is required with scope=campaign')
    let number: string | undefined
    if (q.number !== undefined) {
      // Without a kind, a whole number if it parses as one, else a prefix.
      const asNumber = normalize('number', q.number, q.region)
      const n = q.kind !== undefined ? normalize(q.kind, q.number, q.region) : typeof asNumber === 'string' ? asNumber : normalize('prefix', q.number, q.region)
      if (typeof n !== 'string') throw invalidField('querystring.number', n.error)
      number = n
    }
    const p = principalOf(request)
    if (scope === 'campaign') await requireCampaign(q.campaignId, 'querystring.campaignId', p)
    const filter = scope === 'campaign' ? { scope, campaignId: q.campaignId! } : { scope }
    const page = await repos.dnc.list(
      { ...filter, siteId: p.siteId, ...(q.kind !== undefined ? { kind: q.kind } : {}), ...(number !== undefined ? { number } : {}) },
      { limit: q.limit, offset: q.offset },
    )
    return { items: page.items.map(view), total: page.total, limit: q.limit, offset: q.offset }
  })

  app.delete<{ Params: { id: string } }>(
    '/v1/dnc/:id',
    { schema: removeDncSchema, config: { auth: Writers } },
    async (request, reply) => {
      const mirror = requireMirror()
      const actor = principalOf(request).actor
      const removed = await db.transaction(async (tx) => {
        const r = repositories(tx, pii)
        const found = await r.dnc.get(request.params.id)
        if (!found) return undefined
        const p = principalOf(request)
        if (p.siteId !== null) {
          // Global entries protect every site: only platform admins lift them; other sites' entries look missing.
          if (found.campaignId === undefined) {
            throw new HttpProblem(403, 'Forbidden', 'only platform admins remove global DNC entries', { type: ProblemTypes.forbidden })
          }
          const c = await r.campaigns.get(found.campaignId)
          if (!c || c.siteId !== p.siteId) return undefined
        }
        const e = await r.dnc.remove(request.params.id)
        if (!e) return undefined
        const scope = e.campaignId === undefined ? {} : { campaignId: e.campaignId }
        try {
          if (e.kind === 'number') await mirror.removeNumbers(scope, [e.number])
          else await mirror.removePrefixes(scope, [e.number])
        } catch (err) {
          throw mirrorUnavailable(err)
        }
        await r.audit.append({ actor, action: 'dnc-remove', entity: 'dnc', entityId: e.id, detail: { kind: e.kind, campaignId: e.campaignId ?? null } })
        return e
      })
      if (!removed) throw notFound('DNC entry', request.params.id)
      return reply.code(204).send()
    },
  )

  app.post(
    '/v1/dnc/sync',
    {
      schema: {
        summary: 'Copy every DNC entry from PostgreSQL into the Redis lists the engine reads (after Redis lost data)',
        response: { 200: { type: 'object', required: ['entries'], properties: { entries: { type: 'integer' } } }, ...problemResponses },
      },
      config: { auth: { roles: ['admin'] } },
    },
    async (request) => {
      const mirror = requireMirror()
      let r: { entries: number }
      try {
        r = await syncDncMirror(db, pii, mirror)
      } catch (err) {
        throw mirrorUnavailable(err)
      }
      await repos.audit.append({ actor: principalOf(request).actor, action: 'dnc-sync', entity: 'dnc', detail: r })
      request.log.info(r, 'DNC mirror synced from PostgreSQL')
      return r
    },
  )

  app.post<{ Querystring: { campaignId?: string; region?: string; delimiter?: string } }>(
    '/v1/dnc/imports',
    { schema: { ...importDncSchema, consumes: CsvTypes }, config: { auth: Writers } },
    async (request) => {
      const body: unknown = request.body
      if (!(body instanceof Readable)) {
        throw new HttpProblem(415, 'Unsupported media type', `send the file as ${CsvTypes.join(' or ')}`, { type: ProblemTypes.http })
      }
      requireMirror()
      const { campaignId, region } = request.query
      await requireCampaign(campaignId, 'querystring.campaignId', principalOf(request))
      const actor = principalOf(request).actor
      const report = { rowsRead: 0, added: 0, alreadyListed: 0, bad: 0, badRows: [] as Array<{ line: number; reason: string; value?: string }> }
      const badRow = (line: number, reason: string, value?: string) => {
        report.bad++
        if (report.badRows.length < 1000) report.badRows.push(value === undefined ? { line, reason } : { line, reason, value: value.slice(0, 64) })
      }
      let cols: { number?: number; prefix?: number; reason?: number } | undefined
      let batch: NewDncEntry[] = []
      const flush = async () => {
        if (batch.length === 0) return
        const entries = batch
        batch = []
        const added = await addEntries(entries, actor)
        report.added += added.length
        report.alreadyListed += entries.length - added.length
      }
      const rows: AsyncIterable<SourceRow> = csvRows(body, { delimiter: request.query.delimiter })
      for await (const row of rows) {
        if (cols === undefined) {
          if ('error' in row) throw invalidField('body', `line ${row.line}: the header cannot be read`)
          const c: { number?: number; prefix?: number; reason?: number } = {}
          row.cells.forEach((h, i) => {
            const name = String(h).trim().toLowerCase().replace(/^\ufeff/, '').replace(/[\s_-]+/g, '')
            if (NumberHeaders.includes(name) && c.number === undefined) c.number = i
            if (name === 'prefix' && c.prefix === undefined) c.prefix = i
            if (name === 'reason' && c.reason === undefined) c.reason = i
          })
          if (c.number === undefined && c.prefix === undefined) {
            body.resume()
            throw new HttpProblem(422, 'Import refused', 'the first line must be a header naming a number column (number, phone, ...) or a prefix column', {
              type: ProblemTypes.invalidRequest,
            })
          }
          cols = c
          continue
        }
        report.rowsRead++
        if ('error' in row) {
          badRow(row.line, row.error)
          continue
        }
        const cell = (i: number | undefined) => (i === undefined ? '' : (row.cells[i] ?? '').trim())
        const raw = { number: cell(cols.number), prefix: cell(cols.prefix) }
        const kind: DncKind | undefined = raw.number !== '' ? 'number' : raw.prefix !== '' ? 'prefix' : undefined
        if (kind === undefined) {
          badRow(row.line, 'neither a number nor a prefix')
          continue
        }
        const n = normalize(kind, raw[kind], region)
        if (typeof n !== 'string') {
          badRow(row.line, `${kind}: ${n.error}`, raw[kind])
          continue
        }
        const entry: NewDncEntry = { kind, number: n, source: 'import' }
        if (campaignId !== undefined) entry.campaignId = campaignId
        const reason = cell(cols.reason)
        if (reason !== '') entry.reason = reason.slice(0, 200)
        batch.push(entry)
        if (batch.length >= 2000) await flush()
      }
      if (cols === undefined) throw new HttpProblem(422, 'Import refused', 'the file is empty: expected a header line', { type: ProblemTypes.invalidRequest })
      await flush()
      request.log.info({ campaignId, rowsRead: report.rowsRead, added: report.added, bad: report.bad }, 'DNC import finished')
      return report
    },
  )
}
