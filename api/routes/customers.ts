/**
 * /v1/customers and /v1/callbacks: the CRM. Personal data is encrypted by the repositories (PiiCipher); routes parse
 * and normalize numbers, decide scope (api/scope.ts) and write the audit log in the same transaction as the change.
 *
 * Who sees what: agents only the customers they own (another agent's answers 404, like a missing one), supervisors
 * and admins every customer of their site, QA read-only, another site's customer 404. Agents create customers they
 * own and cannot hand them to someone else; supervisors and admins assign owners or return customers to the pool.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { parsePhone } from '../../engine/screening/number.js'
import { LeadNumberNormalizer } from '../../engine/store/sql/lead-number-normalizer.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import type { CallbackStatus, CustomerCallback } from '../../engine/store/sql/callbacks.js'
import type { CustomerDisposition } from '../../engine/store/sql/customer-dispositions.js'
import type { CustomerNote } from '../../engine/store/sql/customer-notes.js'
import type { TimelineEntry } from '../../engine/store/sql/customer-timeline.js'
import {
  CustomerSortTooBroad,
  type Customer,
  type CustomerPhone,
  type CustomerProfile,
  type CustomerScope,
  type CustomerSort,
  type CustomerType,
  type NewPhone,
} from '../../engine/store/sql/customers.js'
import { BatchedLookup } from '../../engine/store/sql/batched-lookup.js'
import type { Db } from '../../engine/store/sql/db.js'
import { repositories, type Repositories } from '../../engine/store/sql/repositories.js'
import { principalOf, type Principal } from '../plugins/auth.js'
import { conflict, HttpProblem, invalidField, notFound, ProblemTypes } from '../problem.js'
import { agentScope, siteForNew, siteScope } from '../scope.js'
import {
  addDispositionSchema,
  addNoteSchema,
  addPhoneSchema,
  bookCallbackSchema,
  callbackSchema,
  createCustomerSchema,
  customerCallbacksSchema,
  customerDispositionSchema,
  customerNoteSchema,
  customerPhoneSchema,
  customerSchema,
  deleteCustomerSchema,
  getCustomerSchema,
  listCallbacksSchema,
  listCustomersSchema,
  removePhoneSchema,
  timelineEntrySchema,
  timelineSchema,
  updateCallbackSchema,
  updateCustomerSchema,
} from '../schemas/customer.js'
import { iso } from '../schemas/timestamp.js'

export interface CustomerRoutesOptions {
  db: Db
  pii: PiiCipher
  /** Region national-format numbers are read in when the request names none; default CN. */
  defaultRegion?: string
  /** Injected for tests of "not in the past"; default Date.now. */
  now?: () => number
}

const Readers = { roles: ['admin', 'supervisor', 'qa', 'agent'] } as const
const Writers = { roles: ['admin', 'supervisor', 'agent'] } as const
const Managers = { roles: ['admin', 'supervisor'] } as const

const phoneView = (p: CustomerPhone) => ({ ...p, createdAt: iso(p.createdAt) })
const customerView = (c: Customer) => ({ ...c, phones: c.phones.map(phoneView), createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt) })
const noteView = (n: CustomerNote) => ({ ...n, createdAt: iso(n.createdAt) })
const dispositionView = (d: CustomerDisposition) => ({ ...d, createdAt: iso(d.createdAt) })
const callbackView = (c: CustomerCallback) => ({ ...c, dueAt: iso(c.dueAt), createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt) })

function entryView(e: TimelineEntry) {
  const base = { kind: e.kind, at: iso(e.at), id: e.id }
  switch (e.kind) {
    case 'call': {
      const { dialedAt, answeredAt, endedAt, ...rest } = e.call
      const call = { ...rest, dialedAt: iso(dialedAt), endedAt: iso(endedAt), ...(answeredAt === undefined ? {} : { answeredAt: iso(answeredAt) }) }
      return { ...base, call }
    }
    case 'note':
      return { ...base, note: noteView(e.note) }
    case 'disposition':
      return { ...base, disposition: dispositionView(e.disposition) }
  }
}

/**
 * agentScope's "no agent" sentinel holds a NUL, which PostgreSQL refuses in text parameters (the query would fail as
 * a 400 instead of finding nothing); this stand-in is valid text that no agent id has.
 */
const NoAgent = ' no agent '

export function scopeOf(p: Principal): CustomerScope {
  const agentId = agentScope(p)
  return { siteId: siteScope(p), agentId: agentId !== null && agentId.includes('\u0000') ? NoAgent : agentId }
}

const MinuteMs = 60_000

/** A screen pop's batch key: site scope, agent scope, limit, E.164. */
type PhoneKey = [string | null, string | null, number, string]
/** A name search's batch key: site scope, agent scope, sort, limit, name. */
type NameKey = [string | null, string | null, Exclude<CustomerSort, 'name'>, number, string]

export async function customerRoutes(app: FastifyInstance, options: CustomerRoutesOptions): Promise<void> {
  const { db, pii } = options
  const defaultRegion = options.defaultRegion ?? 'CN'
  const now = options.now ?? Date.now
  const repos = repositories(db, pii)
  // The screen pop's numbers are mostly mainland mobiles: the importer's cached fast path spares a full parse.
  const lookupNumbers = new LeadNumberNormalizer()
  const inTx = <T>(fn: (r: Repositories) => Promise<T>): Promise<T> => db.transaction((tx) => fn(repositories(tx, pii)))
  // Screen pops that arrive together share one statement per scope (engine/store/sql/batched-lookup.ts): nothing is
  // cached, the statement runs after every request in it arrived.
  const byPhone = new BatchedLookup(async (keys: string[]) => {
    const groups = new Map<string, { scope: CustomerScope; limit: number; e164s: string[] }>()
    for (const key of keys) {
      const k = JSON.parse(key) as PhoneKey
      const g = JSON.stringify([k[0], k[1], k[2]])
      const group = groups.get(g) ?? { scope: { siteId: k[0], agentId: k[1] }, limit: k[2], e164s: [] }
      group.e164s.push(k[3])
      groups.set(g, group)
    }
    const found = new Map<string, Customer[]>()
    await Promise.all(
      [...groups.values()].map(async (g) => {
        for (const [e164, customers] of await repos.customers.findByPhones(g.e164s, g.scope, g.limit)) {
          found.set(JSON.stringify([g.scope.siteId, g.scope.agentId, g.limit, e164] satisfies PhoneKey), customers)
        }
      }),
    )
    return found
  })
  const byName = new BatchedLookup(async (keys: string[]) => {
    const groups = new Map<string, { scope: CustomerScope; sort: Exclude<CustomerSort, 'name'>; limit: number; names: string[] }>()
    for (const key of keys) {
      const k = JSON.parse(key) as NameKey
      const g = JSON.stringify([k[0], k[1], k[2], k[3]])
      const group = groups.get(g) ?? { scope: { siteId: k[0], agentId: k[1] }, sort: k[2], limit: k[3], names: [] }
      group.names.push(k[4])
      groups.set(g, group)
    }
    const found = new Map<string, { items: Customer[]; total: number }>()
    await Promise.all(
      [...groups.values()].map(async (g) => {
        for (const [name, page] of await repos.customers.searchByNames(g.names, g.scope, { sort: g.sort, limit: g.limit })) {
          found.set(JSON.stringify([g.scope.siteId, g.scope.agentId, g.sort, g.limit, name] satisfies NameKey), page)
        }
      }),
    )
    return found
  })
  for (const s of [customerPhoneSchema, customerSchema, customerNoteSchema, customerDispositionSchema, callbackSchema, timelineEntrySchema]) {
    app.addSchema(s)
  }

  function phoneOf(field: string, input: { number: string; label?: string; region?: string }): NewPhone {
    const r = parsePhone(input.number, input.region ?? defaultRegion)
    if (!r.ok) throw invalidField(field, r.reason)
    return { e164: r.phone.e164, label: input.label ?? null, country: r.phone.region ?? null, type: r.phone.type }
  }

  async function customerInScope(request: FastifyRequest, id: string): Promise<Customer> {
    const c = await repos.customers.get(id, scopeOf(principalOf(request)))
    if (!c) throw notFound('customer', id)
    return c
  }

  /** An owner a supervisor or admin names must be an agent of the customer's site. */
  async function checkOwner(field: string, agentId: string | null, siteId: string): Promise<void> {
    if (agentId === null) return
    const agent = await repos.agents.get(agentId)
    if (!agent || agent.siteId !== siteId) throw invalidField(field, 'no such agent in this site')
  }

  const agentsOnlyOwn = (detail: string) => new HttpProblem(403, 'Forbidden', detail, { type: ProblemTypes.forbidden })

  app.post<{
    Body: { name: string; type: CustomerType; ownerAgentId?: string | null; profile?: CustomerProfile; tags?: string[]; phones?: Array<{ number: string; label?: string; region?: string }>; siteId?: string }
  }>('/v1/customers', { schema: createCustomerSchema, config: { auth: Writers } }, async (request, reply) => {
    const p = principalOf(request)
    const body = request.body
    const siteId = siteForNew(p, body.siteId)
    if (p.siteId === null && !(await repos.sites.get(siteId))) throw invalidField('body.siteId', `site ${JSON.stringify(siteId)} does not exist`)
    let owner: string | null
    if (p.role === 'agent') {
      if (body.ownerAgentId !== undefined && body.ownerAgentId !== p.agentId) throw agentsOnlyOwn('agents create customers they own: leave ownerAgentId out')
      if (p.agentId === null) throw agentsOnlyOwn('this agent key names no agent')
      owner = p.agentId
    } else {
      owner = body.ownerAgentId ?? null
      await checkOwner('body.ownerAgentId', owner, siteId)
    }
    const phones = (body.phones ?? []).map((ph, i) => phoneOf(`body.phones.${i}.number`, ph))
    const customer = await inTx(async (r) => {
      const c = await r.customers.create({
        siteId,
        type: body.type,
        ownerAgentId: owner,
        name: body.name.trim(),
        profile: body.profile,
        tags: body.tags,
        phones,
        createdBy: p.actor,
      })
      await r.audit.append({ actor: p.actor, action: 'create', entity: 'customer', entityId: c.id, detail: { siteId, type: c.type, ownerAgentId: owner, phones: c.phones.length } })
      return c
    })
    request.log.info({ customerId: customer.id, siteId }, 'customer created')
    return reply.code(201).send(customerView(customer))
  })

  app.get<{
    Querystring: { phone?: string; region?: string; name?: string; type?: CustomerType; owner?: string; tag?: string[]; sort: CustomerSort; limit: number; offset: number }
  }>('/v1/customers', { schema: listCustomersSchema, config: { auth: Readers } }, async (request) => {
    const q = request.query
    const scope = scopeOf(principalOf(request))
    if (q.phone !== undefined) {
      const other = (['name', 'type', 'owner', 'tag'] as const).find((k) => q[k] !== undefined)
      if (other !== undefined) throw invalidField(`querystring.${other}`, 'cannot be combined with phone')
      const r = lookupNumbers.normalize(q.phone, q.region ?? defaultRegion)
      if (!r.ok) throw invalidField('querystring.phone', r.reason)
      const items = (await byPhone.load(JSON.stringify([scope.siteId, scope.agentId, q.limit, r.e164] satisfies PhoneKey))) ?? []
      return { items: items.map(customerView), total: items.length, limit: q.limit, offset: 0 }
    }
    // The CRM's everyday search, a name alone on its first page, shares one statement with those arriving together.
    if (q.name !== undefined && q.type === undefined && q.owner === undefined && q.tag === undefined && q.offset === 0 && q.sort !== 'name') {
      const page = (await byName.load(JSON.stringify([scope.siteId, scope.agentId, q.sort, q.limit, q.name] satisfies NameKey)))!
      return { items: page.items.map(customerView), total: page.total, limit: q.limit, offset: 0 }
    }
    try {
      const page = await repos.customers.search(
        { name: q.name, type: q.type, ownerAgentId: q.owner === undefined ? undefined : q.owner === 'none' ? null : q.owner, tags: q.tag },
        scope,
        { sort: q.sort, limit: q.limit, offset: q.offset },
      )
      return { items: page.items.map(customerView), total: page.total, ...(page.totalCapped ? { totalCapped: true } : {}), limit: q.limit, offset: q.offset }
    } catch (err) {
      if (err instanceof CustomerSortTooBroad) throw invalidField('querystring.sort', err.message)
      throw err
    }
  })

  app.get<{ Params: { id: string } }>('/v1/customers/:id', { schema: getCustomerSchema, config: { auth: Readers } }, async (request) =>
    customerView(await customerInScope(request, request.params.id)),
  )

  app.patch<{
    Params: { id: string }
    Body: { name?: string; type?: CustomerType; ownerAgentId?: string | null; profile?: CustomerProfile; tags?: string[] }
  }>('/v1/customers/:id', { schema: updateCustomerSchema, config: { auth: Writers } }, async (request) => {
    const p = principalOf(request)
    const before = await customerInScope(request, request.params.id)
    const body = request.body
    const ownerChanges = body.ownerAgentId !== undefined && body.ownerAgentId !== before.ownerAgentId
    if (ownerChanges && p.role === 'agent') throw agentsOnlyOwn('agents cannot hand their customers over; a supervisor can')
    if (ownerChanges) await checkOwner('body.ownerAgentId', body.ownerAgentId ?? null, before.siteId)
    await inTx(async (r) => {
      const patch = { ...body, ...(body.name === undefined ? {} : { name: body.name.trim() }) }
      if (!(await r.customers.update(before.id, scopeOf(p), patch))) throw notFound('customer', before.id)
      if (ownerChanges) await r.callbacks.followOwner(before.id, before.ownerAgentId, body.ownerAgentId ?? null)
      const detail: Record<string, unknown> = { fields: Object.keys(body) }
      if (ownerChanges) Object.assign(detail, { ownerFrom: before.ownerAgentId, ownerTo: body.ownerAgentId ?? null })
      await r.audit.append({ actor: p.actor, action: 'update', entity: 'customer', entityId: before.id, detail })
    })
    // Read back unscoped by owner: a supervisor may just have handed it to an agent.
    return customerView((await repos.customers.get(before.id, { siteId: before.siteId, agentId: null }))!)
  })

  app.delete<{ Params: { id: string } }>('/v1/customers/:id', { schema: deleteCustomerSchema, config: { auth: Managers } }, async (request, reply) => {
    const p = principalOf(request)
    await inTx(async (r) => {
      if (!(await r.customers.delete(request.params.id, scopeOf(p)))) throw notFound('customer', request.params.id)
      await r.audit.append({ actor: p.actor, action: 'delete', entity: 'customer', entityId: request.params.id })
    })
    return reply.code(204).send()
  })

  app.post<{ Params: { id: string }; Body: { number: string; label?: string; region?: string } }>(
    '/v1/customers/:id/phones',
    { schema: addPhoneSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const c = await customerInScope(request, request.params.id)
      const phone = phoneOf('body.number', request.body)
      const added = await inTx(async (r) => {
        const ph = await r.customers.addPhone(c.id, c.siteId, phone)
        if (ph === undefined) throw conflict('the customer already has this number')
        await r.audit.append({ actor: p.actor, action: 'add-phone', entity: 'customer', entityId: c.id, detail: { phoneId: ph.id, country: ph.country } })
        return ph
      })
      return reply.code(201).send(phoneView(added))
    },
  )

  app.delete<{ Params: { id: string; phoneId: string } }>(
    '/v1/customers/:id/phones/:phoneId',
    { schema: removePhoneSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const c = await customerInScope(request, request.params.id)
      await inTx(async (r) => {
        if (!(await r.customers.removePhone(c.id, request.params.phoneId))) throw notFound('phone', request.params.phoneId)
        await r.audit.append({ actor: p.actor, action: 'remove-phone', entity: 'customer', entityId: c.id, detail: { phoneId: request.params.phoneId } })
      })
      return reply.code(204).send()
    },
  )

  app.get<{ Params: { id: string }; Querystring: { limit: number; before?: string } }>(
    '/v1/customers/:id/timeline',
    { schema: timelineSchema, config: { auth: Readers } },
    async (request) => {
      const c = await customerInScope(request, request.params.id)
      const before = request.query.before === undefined ? undefined : Date.parse(request.query.before)
      const items = await repos.customerTimeline.page(c, request.query.limit, before)
      return { items: items.map(entryView) }
    },
  )

  app.post<{ Params: { id: string }; Body: { text: string } }>(
    '/v1/customers/:id/notes',
    { schema: addNoteSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const c = await customerInScope(request, request.params.id)
      const note = await inTx(async (r) => {
        const n = await r.customerNotes.add({ customerId: c.id, siteId: c.siteId, agentId: p.agentId, actor: p.actor, text: request.body.text })
        await r.audit.append({ actor: p.actor, action: 'add-note', entity: 'customer', entityId: c.id, detail: { noteId: n.id } })
        return n
      })
      return reply.code(201).send(noteView(note))
    },
  )

  app.post<{ Params: { id: string }; Body: { code: string; callId?: string } }>(
    '/v1/customers/:id/dispositions',
    { schema: addDispositionSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const c = await customerInScope(request, request.params.id)
      const callId = request.body.callId ?? null
      if (callId !== null && !(await repos.customerTimeline.hasCall(c, callId))) throw invalidField('body.callId', 'no call of this customer has this id')
      const d = await inTx(async (r) => {
        const added = await r.customerDispositions.add({ customerId: c.id, siteId: c.siteId, callId, code: request.body.code, agentId: p.agentId, actor: p.actor })
        await r.audit.append({ actor: p.actor, action: 'add-disposition', entity: 'customer', entityId: c.id, detail: { dispositionId: added.id, code: added.code, callId } })
        return added
      })
      return reply.code(201).send(dispositionView(d))
    },
  )

  /** A due time from the request: a whole minute, not before the current minute. */
  function dueAtOf(field: string, raw: string): number {
    const ms = Date.parse(raw)
    if (!Number.isFinite(ms)) throw invalidField(field, 'not a date-time')
    if (ms % MinuteMs !== 0) throw invalidField(field, 'callbacks are booked to the minute: seconds and fractions must be 0')
    if (ms < Math.floor(now() / MinuteMs) * MinuteMs) throw invalidField(field, 'is in the past')
    return ms
  }

  app.post<{ Params: { id: string }; Body: { dueAt: string; assignee: 'owner' | 'anyone'; note?: string } }>(
    '/v1/customers/:id/callbacks',
    { schema: bookCallbackSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const c = await customerInScope(request, request.params.id)
      const dueAt = dueAtOf('body.dueAt', request.body.dueAt)
      const agentId = request.body.assignee === 'owner' ? c.ownerAgentId : null
      const cb = await inTx(async (r) => {
        const booked = await r.callbacks.book({ siteId: c.siteId, customerId: c.id, agentId, dueAt, note: request.body.note, createdBy: p.actor })
        await r.audit.append({ actor: p.actor, action: 'book-callback', entity: 'customer', entityId: c.id, detail: { callbackId: booked.id, dueAt: iso(dueAt), agentId } })
        return booked
      })
      return reply.code(201).send(callbackView(cb))
    },
  )

  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
    '/v1/customers/:id/callbacks',
    { schema: customerCallbacksSchema, config: { auth: Readers } },
    async (request) => {
      const c = await customerInScope(request, request.params.id)
      return { items: (await repos.callbacks.listForCustomer(c.id, request.query.limit)).map(callbackView) }
    },
  )

  app.get<{ Querystring: { dueBefore?: string; dueAfter?: string; assignee?: string; status?: CallbackStatus[]; limit: number } }>(
    '/v1/callbacks',
    { schema: listCallbacksSchema, config: { auth: Readers } },
    async (request) => {
      const p = principalOf(request)
      const q = request.query
      let assignee = q.assignee
      if (assignee === 'me') {
        if (p.agentId === null) throw invalidField('querystring.assignee', 'the caller works as no agent')
        assignee = p.agentId
      }
      const items = await repos.callbacks.listDue(scopeOf(p), {
        dueBefore: q.dueBefore === undefined ? now() : Date.parse(q.dueBefore),
        dueAfter: q.dueAfter === undefined ? undefined : Date.parse(q.dueAfter),
        assignee,
        statuses: q.status,
        limit: q.limit,
      })
      return { items: items.map(callbackView) }
    },
  )

  app.patch<{ Params: { id: string }; Body: { status?: CallbackStatus; dueAt?: string; assignee?: 'owner' | 'anyone' } }>(
    '/v1/callbacks/:id',
    { schema: updateCallbackSchema, config: { auth: Writers } },
    async (request) => {
      const p = principalOf(request)
      const scope = scopeOf(p)
      const cb = await repos.callbacks.get(request.params.id, scope)
      if (!cb) throw notFound('callback', request.params.id)
      const body = request.body
      const patch: { status?: CallbackStatus; dueAt?: number; agentId?: string | null } = {}
      if (body.status !== undefined) patch.status = body.status
      if (body.dueAt !== undefined) patch.dueAt = dueAtOf('body.dueAt', body.dueAt)
      if (body.assignee !== undefined) {
        patch.agentId = body.assignee === 'anyone' ? null : ((await repos.customers.get(cb.customerId, { siteId: cb.siteId, agentId: null }))?.ownerAgentId ?? null)
      }
      await inTx(async (r) => {
        if (!(await r.callbacks.update(cb.id, scope, patch))) throw notFound('callback', cb.id)
        await r.audit.append({
          actor: p.actor,
          action: 'update-callback',
          entity: 'customer',
          entityId: cb.customerId,
          detail: { callbackId: cb.id, ...body },
        })
      })
      return callbackView((await repos.callbacks.get(cb.id, { siteId: cb.siteId, agentId: null }))!)
    },
  )
}
