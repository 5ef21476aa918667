/** The shape every paged list shares: `limit`/`offset` in the query, `{ items, total, limit, offset }` back. */

export function pagingQuery(defaultLimit: number, maxLimit: number) {
  return {
    limit: { type: 'integer', minimum: 1, maximum: maxLimit, default: defaultLimit },
    offset: { type: 'integer', minimum: 0, default: 0 },
  } as const
}

export function pageOf<R extends string>(itemRef: R) {
  return {
    type: 'object',
    required: ['items', 'total', 'limit', 'offset'],
    properties: {
      items: { type: 'array', items: { $ref: itemRef } },
      total: { type: 'integer' },
      limit: { type: 'integer' },
      offset: { type: 'integer' },
    },
  } as const
}
