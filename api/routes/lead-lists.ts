/**
 * Lead lists: create, read, import CSV streamed into batches (progress polled while it runs, bad rows by line), export
 * as CSV streamed page by page. The body of an import is never held whole: it flows from the socket through the CSV
 * parser into batched inserts, with backpressure.
 */
import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Db } from '../../engine/store/sql/db.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import type { LeadImport } from '../../engine/store/sql/lead-imports.js'
import { ImportRefused, importLeads } from '../../engine/store/sql/lead-importer.js'
import type { LeadListInfo } from '../../engine/store/sql/lead-lists.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { csvRowChunks } from '../imports/csv-rows.js'
import { XlsxContentType, xlsxRows } from '../imports/xlsx-rows.js'
import { principalOf } from '../plugins/auth.js'
import { campaignInScope } from '../scope.js'
import { HttpProblem, notFound, ProblemTypes } from '../problem.js'
import {
  createLeadListSchema,
  exportLeadListSchema,
  getImportSchema,
  getLeadListSchema,
  importErrorsSchema,
  importLeadsSchema,
  leadImportSchema,
  leadListSchema,
  listImportsSchema,
  listLeadListsSchema,
} from '../schemas/lead-list.js'
import { iso } from '../schemas/timestamp.js'

export interface LeadListRoutesOptions {
  db: Db
  /** Seals imported numbers and opens them for export. */
  pii: PiiCipher
}

const Managers = { roles: ['admin', 'supervisor'] } as const
const Readers = { roles: ['admin', 'supervisor', 'qa'] } as const


function listView(l: LeadListInfo): Record<string, unknown> {
  return { ...l, createdAt: iso(l.createdAt) }
}

export function importView(i: LeadImport): Record<string, unknown> {
  const { startedAt, updatedAt, finishedAt, ...rest } = i
  const v: Record<string, unknown> = { ...rest, startedAt: iso(startedAt), updatedAt: iso(updatedAt) }
  if (finishedAt !== undefined) v['finishedAt'] = iso(finishedAt)
  return v
}

const CsvTypes = ['text/csv', 'application/csv']
const ExportColumns = ['id', 'phone', 'e164', 'region', 'timezone', 'status', 'attempts', 'priority', 'customer_id', 'last_attempt_at', 'created_at']

export async function leadListRoutes(app: FastifyInstance, options: LeadListRoutesOptions): Promise<void> {
  const { db, pii } = options
  const repos = repositories(db, pii)
  app.addSchema(leadListSchema)
  app.addSchema(leadImportSchema)
  // Import bodies reach the handler as the raw request stream (this plugin only): no body limit, no buffering.
  app.addContentTypeParser([...CsvTypes, XlsxContentType], (_request, payload, done) => done(null, payload))

  /** The list if its campaign is in the caller's site; another site's list is as missing as an unknown id. */
  const listOr404 = async (request: FastifyRequest, listId: string): Promise<LeadListInfo> => {
    const l = await repos.leadLists.get(listId)
    if (!l) throw notFound('lead list', listId)
    await campaignInScope(repos.campaigns, principalOf(request), l.campaignId, 'lead list', listId)
    return l
  }

  app.post<{ Params: { id: string }; Body: { name: string; source?: string; region?: string } }>(
    '/v1/campaigns/:id/lead-lists',
    { schema: createLeadListSchema, config: { auth: Managers } },
    async (request, reply) => {
      const campaignId = request.params.id
      await campaignInScope(repos.campaigns, principalOf(request), campaignId)
      const actor = principalOf(request).actor
      const list = await db.transaction(async (tx) => {
        const r = repositories(tx, pii)
        const l = await r.leadLists.create({ campaignId, ...request.body })
        await r.audit.append({ actor, action: 'create', entity: 'lead-list', entityId: l.id, detail: { campaignId, name: l.name } })
        return l
      })
      return reply.code(201).header('location', `/v1/lead-lists/${encodeURIComponent(list.id)}`).send(listView(list))
    },
  )

  app.get<{ Params: { id: string }; Querystring: { limit: number; offset: number } }>(
    '/v1/campaigns/:id/lead-lists',
    { schema: listLeadListsSchema, config: { auth: Readers } },
    async (request) => {
      const campaignId = request.params.id
      await campaignInScope(repos.campaigns, principalOf(request), campaignId)
      const { limit, offset } = request.query
      const page = await repos.leadLists.listByCampaign(campaignId, { limit, offset })
      return { items: page.items.map(listView), total: page.total, limit, offset }
    },
  )

  app.get<{ Params: { listId: string } }>(
    '/v1/lead-lists/:listId',
    { schema: getLeadListSchema, config: { auth: Readers } },
    async (request) => listView(await listOr404(request, request.params.listId)),
  )

  app.post<{ Params: { listId: string }; Querystring: { region?: string; delimiter?: string } }>(
    '/v1/lead-lists/:listId/imports',
    { schema: { ...importLeadsSchema, consumes: [...CsvTypes, XlsxContentType] }, config: { auth: Managers } },
    async (request, reply) => {
      const body: unknown = request.body
      if (!(body instanceof Readable)) {
        throw new HttpProblem(415, 'Unsupported media type', `send the file as ${[...CsvTypes, XlsxContentType].join(' or ')}`, {
          type: ProblemTypes.http,
        })
      }
      const format = (request.headers['content-type'] ?? '').startsWith(XlsxContentType) ? 'xlsx' : 'csv'
      const list = await listOr404(request, request.params.listId)
      const actor = principalOf(request).actor
      const started = await repos.leadImports.create({ listId: list.id, campaignId: list.campaignId, format, actor })
      const log = request.log.child({ importId: started.id, listId: list.id, campaignId: list.campaignId })
      log.info('lead import started')
      let outcome: { status: 'done' } | { status: 'failed'; error: string } = { status: 'done' }
      let refused: ImportRefused | undefined
      try {
        const region = request.query.region ?? list.region
        const rows = format === 'xlsx' ? xlsxRows(body) : csvRowChunks(body, { delimiter: request.query.delimiter })
        await importLeads(db, pii, rows, {
          importId: started.id,
          campaignId: list.campaignId,
          listId: list.id,
          ...(region !== undefined ? { region } : {}),
        })
      } catch (err) {
        if (err instanceof ImportRefused) refused = err
        else log.error({ err }, 'lead import broke off')
        outcome = { status: 'failed', error: err instanceof ImportRefused ? err.message : 'the upload or the database failed mid-way; rows committed before stay' }
      }
      const finished = (await repos.leadImports.finish(started.id, outcome))!
      await repos.audit.append({
        actor,
        action: 'import',
        entity: 'lead-list',
        entityId: list.id,
        detail: { importId: started.id, status: finished.status, inserted: finished.inserted, bad: finished.bad },
      })
      log.info({ status: finished.status, rowsRead: finished.rowsRead, inserted: finished.inserted, duplicates: finished.duplicates, bad: finished.bad }, 'lead import finished')
      if (refused) {
        body.resume()
        throw new HttpProblem(422, 'Import refused', refused.message, { type: ProblemTypes.invalidRequest, importId: started.id })
      }
      if (finished.status === 'failed') {
        throw new HttpProblem(500, 'Import failed', `${finished.error ?? 'failed'} (import ${started.id})`, { type: ProblemTypes.internal, importId: started.id })
      }
      const badRows = await repos.leadImports.badRows(started.id, 0, 100)
      return reply
        .code(201)
        .header('location', `/v1/lead-lists/${encodeURIComponent(list.id)}/imports/${encodeURIComponent(started.id)}`)
        .send({ ...importView(finished), badRows })
    },
  )

  app.get<{ Params: { listId: string }; Querystring: { limit: number } }>(
    '/v1/lead-lists/:listId/imports',
    { schema: listImportsSchema, config: { auth: Managers } },
    async (request) => {
      const list = await listOr404(request, request.params.listId)
      return { items: (await repos.leadImports.listByList(list.id, request.query.limit)).map(importView) }
    },
  )

  const importOr404 = async (request: FastifyRequest, listId: string, importId: string): Promise<LeadImport> => {
    const i = await repos.leadImports.get(importId)
    if (!i || i.listId !== listId) throw notFound('import', importId)
    await campaignInScope(repos.campaigns, principalOf(request), i.campaignId, 'import', importId)
    return i
  }

  app.get<{ Params: { listId: string; importId: string } }>(
    '/v1/lead-lists/:listId/imports/:importId',
    { schema: getImportSchema, config: { auth: Managers } },
    async (request) => importView(await importOr404(request, request.params.listId, request.params.importId)),
  )

  app.get<{ Params: { listId: string; importId: string }; Querystring: { afterLine: number; limit: number } }>(
    '/v1/lead-lists/:listId/imports/:importId/errors',
    { schema: importErrorsSchema, config: { auth: Managers } },
    async (request) => {
      const i = await importOr404(request, request.params.listId, request.params.importId)
      const items = await repos.leadImports.badRows(i.id, request.query.afterLine, request.query.limit)
      const last = items[items.length - 1]
      return items.length === request.query.limit && last ? { items, nextAfterLine: last.line } : { items }
    },
  )

  app.get<{ Params: { listId: string } }>(
    '/v1/lead-lists/:listId/export',
    { schema: exportLeadListSchema, config: { auth: Managers } },
    async (request, reply) => {
      const list = await listOr404(request, request.params.listId)
      const pages = async function* (): AsyncGenerator<unknown[]> {
        let after = 0
        for (;;) {
          const page = await repos.leadLists.exportPage(list.id, after, 1000)
          for (const l of page) {
            yield [
              l.id,
              l.phone,
              l.e164 ?? '',
              l.region ?? '',
              l.timezone ?? '',
              l.status,
              l.attempts,
              l.priority,
              l.customerId ?? '',
              l.lastAttemptAt === null ? '' : iso(l.lastAttemptAt),
              iso(l.createdAt),
            ]
          }
          if (page.length < 1000) return
          after = page[page.length - 1]!.seq
        }
      }
      const csv = Readable.from(pages()).pipe(stringify({ header: true, columns: ExportColumns }))
      await repos.audit.append({ actor: principalOf(request).actor, action: 'export', entity: 'lead-list', entityId: list.id })
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="lead-list-${list.id}.csv"`)
        .send(csv)
    },
  )
}
