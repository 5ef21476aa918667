/**
 * API keys, stored only as SHA-256 hashes. A key is 32 random bytes (base64url) behind a `cad_` prefix: with that
 * much entropy a fast hash cannot be brute-forced, and it lets a request be authenticated with one indexed lookup.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Queryable } from './db.js'
import { msOf, optionalMs } from './row-time.js'

export const UserRoles = ['admin', 'supervisor', 'qa', 'agent'] as const
export type UserRole = (typeof UserRoles)[number]

export interface ApiKey {
  id: string
  name: string
  role: UserRole
  /** The first characters of the key, for humans telling keys apart; not a secret. */
  prefix: string
  userId?: string
  /** null: platform-wide (admin keys only). */
  siteId: string | null
  /** The agent an agent-role key acts as: it sees only that agent's customers and calls. */
  agentId: string | null
  createdAt: number
  lastUsedAt?: number
  revokedAt?: number
}

interface ApiKeyRow {
  id: string
  name: string
  role: UserRole
  key_prefix: string
  user_id: string | null
  site_id: string | null
  agent_id: string | null
  created_at: Date
  last_used_at: Date | null
  revoked_at: Date | null
}

const columns = 'id, name, role, key_prefix, user_id, site_id, agent_id, created_at, last_used_at, revoked_at'

function toKey(r: ApiKeyRow): ApiKey {
  const k: ApiKey = {
    id: r.id,
    name: r.name,
    role: r.role,
    prefix: r.key_prefix,
    siteId: r.site_id,
    agentId: r.agent_id,
    createdAt: msOf(r.created_at),
  }
  if (r.user_id !== null) k.userId = r.user_id
  const used = optionalMs(r.last_used_at)
  if (used !== undefined) k.lastUsedAt = used
  const revoked = optionalMs(r.revoked_at)
  if (revoked !== undefined) k.revokedAt = revoked
  return k
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

export function newApiKeySecret(): string {
  return `cad_${randomBytes(32).toString('base64url')}`
}

type RevocationListener = (apiKeyId: string) => void
const revocationListeners = new Set<RevocationListener>()

/**
 * Be told of every revocation made in this process (through any repository instance), so an in-process cache of key
 * lookups drops the key at once. Returns the unsubscribe function.
 */
export function onApiKeyRevoked(listener: RevocationListener): () => void {
  revocationListeners.add(listener)
  return () => revocationListeners.delete(listener)
}

export class ApiKeyRepository {
  constructor(private readonly db: Queryable) {}

  /** Create a key; the plaintext is returned once and never stored. */
  async create(k: {
    name: string
    role: UserRole
    userId?: string
    /** Default: the default site for non-admin roles, platform-wide for admins. */
    siteId?: string | null
    agentId?: string | null
  }): Promise<{ key: string; apiKey: ApiKey }> {
    const key = newApiKeySecret()
    const siteId = k.siteId !== undefined ? k.siteId : k.role === 'admin' ? null : 'default'
    const r = await this.db.query<ApiKeyRow>(
      `INSERT INTO api_keys (name, role, key_hash, key_prefix, user_id, site_id, agent_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${columns}`,
      [k.name, k.role, hashApiKey(key), key.slice(0, 8), k.userId ?? null, siteId, k.agentId ?? null],
    )
    return { key, apiKey: toKey(r.rows[0]!) }
  }

  /**
   * Make sure a key given from outside (the bootstrap admin key from config) exists with this role; idempotent
   * across restarts. Returns whether it was created now.
   */
  async ensure(key: string, k: { name: string; role: UserRole }): Promise<{ created: boolean; apiKey: ApiKey }> {
    const ins = await this.db.query<ApiKeyRow>(
      `INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key_hash) DO NOTHING RETURNING ${columns}`,
      [k.name, k.role, hashApiKey(key), key.slice(0, 4)],
    )
    if (ins.rows[0]) return { created: true, apiKey: toKey(ins.rows[0]) }
    const existing = await this.db.query<ApiKeyRow>(`SELECT ${columns} FROM api_keys WHERE key_hash = $1`, [
      hashApiKey(key),
    ])
    return { created: false, apiKey: toKey(existing.rows[0]!) }
  }

  /** The live (not revoked) key matching this secret. */
  async findActiveByKey(key: string): Promise<ApiKey | undefined> {
    const r = await this.db.query<ApiKeyRow>(
      `SELECT ${columns} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [hashApiKey(key)],
    )
    return r.rows[0] && toKey(r.rows[0])
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id])
    if (r.rowCount === 1) for (const listener of revocationListeners) listener(id)
    return r.rowCount === 1
  }

  /** Every key, or a site's (siteId given). */
  async list(siteId: string | null = null): Promise<ApiKey[]> {
    const r = await this.db.query<ApiKeyRow>(
      `SELECT ${columns} FROM api_keys WHERE ($1::text IS NULL OR site_id = $1) ORDER BY created_at, id`,
      [siteId],
    )
    return r.rows.map(toKey)
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const r = await this.db.query<ApiKeyRow>(`SELECT ${columns} FROM api_keys WHERE id = $1`, [id])
    return r.rows[0] && toKey(r.rows[0])
  }
}
