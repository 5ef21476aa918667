/** Assertions shared by the API's route tests: a response is problem details with this status, and no stack. */
import type { LightMyRequestResponse } from 'fastify'
import type { Tap } from '../store/sql/databases.js'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  requestId?: string
  errors?: Array<{ field: string; message: string }>
  [k: string]: unknown
}

export function problem(t: Tap, res: LightMyRequestResponse, status: number): ProblemBody {
  t.equal(res.statusCode, status, `status ${status}: ${res.body.slice(0, 300)}`)
  t.match(res.headers['content-type'], /^application\/problem\+json/, 'served as problem details')
  const body = res.json<ProblemBody>()
  t.equal(body.status, status)
  t.type(body.type, 'string')
  t.type(body.title, 'string')
  t.notMatch(res.body, /\bat .+\.(ts|js):\d+/, 'no stack trace')
  return body
}
