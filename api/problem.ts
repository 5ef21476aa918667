/**
 * RFC 9457 problem details: every error the API returns has this shape, served as application/problem+json.
 * Handlers throw HttpProblem; the errors plugin turns it (and every other error) into a response.
 */

export interface FieldError {
  /** Where the offending value is: `body.settings.dialMode`, `querystring.limit`, `params.id`. */
  field: string
  message: string
}

export interface Problem {
  /** A URI reference naming the kind of problem; relative to the API's base. */
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  requestId?: string
  errors?: FieldError[]
  [extension: string]: unknown
}

export const ProblemContentType = 'application/problem+json'

export const ProblemTypes = {
  invalidRequest: '/problems/invalid-request',
  unauthenticated: '/problems/unauthenticated',
  forbidden: '/problems/forbidden',
  notFound: '/problems/not-found',
  conflict: '/problems/conflict',
  campaignRefused: '/problems/campaign-refused',
  notReady: '/problems/not-ready',
  internal: '/problems/internal-error',
  http: 'about:blank',
} as const

export class HttpProblem extends Error {
  readonly problem: Problem

  constructor(status: number, title: string, detail?: string, extra: Partial<Problem> = {}) {
    super(detail ?? title)
    this.name = 'HttpProblem'
    this.problem = { type: extra.type ?? ProblemTypes.http, title, status, ...extra }
    if (detail !== undefined) this.problem.detail = detail
  }
}

export function notFound(what: string, id: string): HttpProblem {
  return new HttpProblem(404, 'Not found', `${what} ${JSON.stringify(id)} does not exist`, { type: ProblemTypes.notFound })
}

export function invalidField(field: string, message: string): HttpProblem {
  return new HttpProblem(400, 'Invalid request', `${field}: ${message}`, {
    type: ProblemTypes.invalidRequest,
    errors: [{ field, message }],
  })
}

export function conflict(detail: string): HttpProblem {
  return new HttpProblem(409, 'Conflict', detail, { type: ProblemTypes.conflict })
}
