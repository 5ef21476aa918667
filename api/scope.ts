/**
 * Tenant scoping: what a principal may see. Routes never filter by hand; they ask here, and repositories take the
 * answer as a parameter. A record of another site answers 404 exactly like a missing one, so a caller cannot learn
 * that it exists (a 403 would tell).
 */
import type { Principal } from './plugins/auth.js'
import { HttpProblem, notFound, ProblemTypes } from './problem.js'

/** The site a query is limited to; null: every site (platform admins). */
export function siteScope(p: Principal): string | null {
  return p.siteId
}

/** Throws the same 404 a missing record gets when the record is not in the caller's site. */
export function ensureInSite(p: Principal, recordSiteId: string, what: string, id: string): void {
  if (p.siteId !== null && p.siteId !== recordSiteId) throw notFound(what, id)
}

/**
 * The site a new record goes to: a site-bound caller's own (naming another is refused), or for a platform admin the
 * one it names, else the default site.
 */
export function siteForNew(p: Principal, requested: string | undefined): string {
  if (p.siteId === null) return requested ?? 'default'
  if (requested !== undefined && requested !== p.siteId) {
    throw new HttpProblem(403, 'Forbidden', `you may create records only in site ${p.siteId}`, {
      type: ProblemTypes.forbidden,
      errors: [{ field: 'body.siteId', message: `must be ${p.siteId} or absent` }],
    })
  }
  return p.siteId
}

/**
 * The agent whose records an agent-role caller is limited to. Other roles: null (no agent limit). An agent principal
 * without an agent (a misconfigured key) is limited to an id nothing has, so it sees nothing rather than everything.
 */
export function agentScope(p: Principal): string | null {
  if (p.role !== 'agent') return null
  return p.agentId ?? '~no-agent~'
}

/** The campaign if it exists in the caller's reach, else the 404 of a missing one; records under a campaign use it. */
export async function campaignInScope<C extends { siteId: string }>(
  campaigns: { get(id: string): Promise<C | undefined> },
  p: Principal,
  id: string,
  what = 'campaign',
  shownId = id,
): Promise<C> {
  const c = await campaigns.get(id)
  if (!c || (p.siteId !== null && c.siteId !== p.siteId)) throw notFound(what, shownId)
  return c
}
