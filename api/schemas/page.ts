/**
 * The shapes lists share: paged ones take `limit`/`offset` and answer `{ items, total, limit, offset }`; short,
 * unpaged ones (a site's users, its webhooks) answer `{ items }`.
 */

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

/** An unpaged list: `{ items }` of the schema with this $id. */
export function listOf<R extends string>(itemRef: R) {
  return { type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: itemRef } } } } as const
}
