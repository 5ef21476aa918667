/**
 * Real-time events as Server-Sent Events: `/v1/agent/events` for an agent desktop (its own calls: the screen pop,
 * the end, the disposition due) and `/v1/events` for supervisors (every event of their site, filterable). A client
 * that reconnects with `Last-Event-ID` gets what it missed first, from the site's stream, then the live events;
 * ids are compared so nothing is repeated or skipped across the switch.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AgentEventNames, AllEventNames, type EventName, type StoredEvent } from '../../engine/events/event-names.js'
import type { RedisEventStream } from '../../engine/store/redis/event-stream.js'
import type { EventHub } from '../events/event-hub.js'
import { streamIdAfter, StreamIdRe } from '../events/stream-id.js'
import { principalOf } from '../plugins/auth.js'
import { HttpProblem, invalidField, ProblemTypes } from '../problem.js'
import { problemResponses } from '../schemas/problem.js'

export interface EventRoutesOptions {
  hub: EventHub
  stream: RedisEventStream
  /** Comment lines keep proxies from closing an idle stream; default 15 s. */
  heartbeatMs?: number
}

const lastEventIdHeader = {
  type: 'object',
  properties: { 'last-event-id': { type: 'string', pattern: StreamIdRe.source } },
} as const

const agentEventsSchema = {
  tags: ['events'],
  summary: 'Server-Sent Events for the calling agent: call.offered (screen pop), call.ended, disposition.due',
  headers: lastEventIdHeader,
  response: { ...problemResponses },
} as const

const siteEventsSchema = {
  tags: ['events'],
  summary: 'Server-Sent Events of a site for supervisors: agent states, campaign figures and every call event',
  headers: lastEventIdHeader,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      types: { type: 'string', pattern: '^[a-z.]+(,[a-z.]+)*$', description: `comma-separated: ${AllEventNames.join(', ')}` },
      campaignId: { type: 'string', minLength: 1, maxLength: 200 },
      agentId: { type: 'string', minLength: 1, maxLength: 200 },
      siteId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
    },
  },
  response: { ...problemResponses },
} as const

function frame(e: StoredEvent): string {
  const { id, type, ...rest } = e
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(rest)}\n\n`
}

async function serve(
  request: FastifyRequest,
  reply: FastifyReply,
  o: EventRoutesOptions,
  siteId: string,
  accept: (e: StoredEvent) => boolean,
): Promise<void> {
  const lastEventId = request.headers['last-event-id']
  const after = typeof lastEventId === 'string' ? lastEventId : undefined
  reply.hijack()
  const raw = reply.raw
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  raw.write(': connected\n\n')
  let sent = after ?? '0-0'
  let replaying = true
  const held: StoredEvent[] = []
  const send = (e: StoredEvent): void => {
    if (!streamIdAfter(e.id, sent)) return
    sent = e.id
    raw.write(frame(e))
  }
  // Subscribe before replaying, holding live events back, so an event published in between is not lost.
  const unsubscribe = await o.hub.subscribe({
    siteId,
    accept,
    deliver: (e) => (replaying ? held.push(e) : send(e)),
  })
  const heartbeat = setInterval(() => raw.write(': ping\n\n'), o.heartbeatMs ?? 15_000)
  const close = (): void => {
    clearInterval(heartbeat)
    unsubscribe()
  }
  request.raw.on('close', close)
  try {
    if (after !== undefined) for (const e of await o.stream.since(siteId, after)) if (accept(e)) send(e)
  } catch (err) {
    request.log.warn({ err }, 'could not replay missed events; the stream continues live')
  }
  replaying = false
  for (const e of held.splice(0)) send(e)
}

export async function eventRoutes(app: FastifyInstance, o: EventRoutesOptions): Promise<void> {
  app.get('/v1/agent/events', { schema: agentEventsSchema, config: { auth: { roles: ['agent'] } } }, async (request, reply) => {
    const p = principalOf(request)
    if (p.agentId === null || p.siteId === null) {
      throw new HttpProblem(409, 'Not an agent', 'these credentials are not linked to an agent of a site', { type: ProblemTypes.conflict })
    }
    const agentId = p.agentId
    const types = new Set<EventName>(AgentEventNames)
    await serve(request, reply, o, p.siteId, (e) => e.agentId === agentId && types.has(e.type))
  })

  app.get<{ Querystring: { types?: string; campaignId?: string; agentId?: string; siteId?: string } }>(
    '/v1/events',
    { schema: siteEventsSchema, config: { auth: { roles: ['admin', 'supervisor'] } } },
    async (request, reply) => {
      const p = principalOf(request)
      const q = request.query
      if (p.siteId !== null && q.siteId !== undefined && q.siteId !== p.siteId) {
        throw invalidField('querystring.siteId', `you may follow site ${p.siteId} only`)
      }
      const siteId = p.siteId ?? q.siteId
      if (siteId === undefined) throw invalidField('querystring.siteId', 'platform admins name the site to follow')
      let types: ReadonlySet<string> = new Set(AllEventNames)
      if (q.types !== undefined) {
        const asked = q.types.split(',')
        const unknown = asked.filter((t) => !types.has(t))
        if (unknown.length > 0) throw invalidField('querystring.types', `unknown event type ${unknown.join(', ')}`)
        types = new Set(asked)
      }
      await serve(request, reply, o, siteId, (e) =>
        types.has(e.type) && (q.campaignId === undefined || e.campaignId === q.campaignId) && (q.agentId === undefined || e.agentId === q.agentId),
      )
    },
  )
}
