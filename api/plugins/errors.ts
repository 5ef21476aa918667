/**
 * Every error becomes RFC 9457 problem details: validation errors name the offending field, 404s for unknown routes
 * too, and nothing internal (stack, SQL, driver message) leaves the process; 5xx are logged with the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CampaignControlRefused } from '../../engine/campaign/control.js'
import { HttpProblem, ProblemContentType, ProblemTypes, type FieldError, type Problem } from '../problem.js'
import { problemSchema } from '../schemas/problem.js'

interface AjvError {
  instancePath: string
  message?: string
  params: Record<string, unknown>
  keyword: string
}

function fieldOf(context: string | undefined, e: AjvError): string {
  const path = e.instancePath
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
  const missing = e.params['missingProperty']
  const extra = e.params['additionalProperty']
  if (e.keyword === 'required' && typeof missing === 'string') path.push(missing)
  if (e.keyword === 'additionalProperties' && typeof extra === 'string') path.push(extra)
  return [context ?? 'body', ...path].join('.')
}

function messageOf(e: AjvError): string {
  if (e.keyword === 'additionalProperties') return 'is not a known property'
  if (e.keyword === 'required') return 'is required'
  const allowed = e.params['allowedValues']
  if (e.keyword === 'enum' && Array.isArray(allowed)) return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`
  return e.message ?? 'is invalid'
}

export function problemOf(error: FastifyError, request: FastifyRequest): Problem {
  if (error instanceof HttpProblem) return { ...error.problem }
  if ((error as unknown) instanceof CampaignControlRefused) {
    // The engine's reason is written for the operator (no agents logged in, lease held elsewhere ...).
    return { type: ProblemTypes.campaignRefused, title: 'Refused by the engine', status: 409, detail: error.message }
  }
  if (error.validation) {
    const errors: FieldError[] = (error.validation as AjvError[]).map((e) => ({
      field: fieldOf(error.validationContext, e),
      message: messageOf(e),
    }))
    const first = errors[0]
    return {
      type: ProblemTypes.invalidRequest,
      title: 'Invalid request',
      status: 400,
      detail: first ? `${first.field}: ${first.message}` : 'the request does not match its schema',
      errors,
    }
  }
  const client = clientDataProblem(error)
  if (client) return client
  const status = error.statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own 4xx (bad JSON, wrong media type, body too large) carry messages written for clients.
    return { type: ProblemTypes.http, title: httpTitle(status), status, detail: error.message }
  }
  return {
    type: ProblemTypes.internal,
    title: 'Internal server error',
    status: 500,
    detail: `the server failed to answer; the error is logged under request id ${request.id}`,
  }
}

/**
 * PostgreSQL refusing what the client sent (a NUL byte in a text, a value too long for its column, a reference to
 * a record that does not exist) is the client's error, not ours: 400 with the reason, never the SQL or the driver's
 * message. Routes that expect a conflict (unique keys) handle it themselves with a precise message; this is the net.
 */
const ClientDataErrors: Record<string, string> = {
  '22021': 'a text holds a NUL byte or a character that is not valid UTF-8',
  '22P05': 'a text holds a character the database cannot store',
  '22001': 'a value is longer than its field allows',
  '22P02': 'a value is not in the form its field expects',
  '22003': 'a number is out of range',
  '23503': 'the request refers to a record that does not exist',
  '23514': 'a value breaks a rule of its field',
}

function clientDataProblem(error: FastifyError): Problem | undefined {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string' || !(code in ClientDataErrors) || error.statusCode !== undefined) return undefined
  return { type: ProblemTypes.invalidRequest, title: 'Invalid request', status: 400, detail: ClientDataErrors[code]! }
}

function httpTitle(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not found',
    405: 'Method not allowed',
    406: 'Not acceptable',
    409: 'Conflict',
    413: 'Content too large',
    414: 'URI too long',
    415: 'Unsupported media type',
    429: 'Too many requests',
  }
  return titles[status] ?? 'Client error'
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: Problem): FastifyReply {
  const body: Problem = { ...problem, instance: request.url.split('?')[0] ?? request.url, requestId: String(request.id) }
  return reply.code(body.status).type(ProblemContentType).send(body)
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.addSchema(problemSchema)
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = problemOf(error, request)
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
      else if (!(error instanceof HttpProblem)) request.log.info({ status: problem.status, detail: problem.detail }, 'request refused')
      return sendProblem(reply, request, problem)
    })
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, {
        type: ProblemTypes.notFound,
        title: 'Not found',
        status: 404,
        detail: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
      }),
    )
  },
  { name: 'cadence-errors' },
)
