/** JSON schema of a problem details body, declared on every route for its 4xx and 5xx answers. */
export const problemSchema = {
  $id: 'cadence/problem',
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
} as const

/** Problem responses every route may give. */
export const problemResponses = {
  '4xx': { $ref: 'cadence/problem#' },
  '5xx': { $ref: 'cadence/problem#' },
} as const
