/**
 * Login tokens: what `POST /v1/auth/login` hands out. Opaque (`cat_` + 256 random bits), stored as SHA-256 like API
 * keys, short-lived (config `CADENCE_TOKEN_TTL_SECONDS`), revoked at logout or when the user is disabled.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Queryable } from './db.js'
import type { User } from './users.js'
import { msOf } from './row-time.js'
import type { UserRole } from './api-keys.js'

export const TokenPrefix = 'cat_'

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

export interface TokenOwner {
  user: Pick<User, 'id' | 'name' | 'role' | 'siteId' | 'agentId'>
  expiresAt: number
}

export class UserTokenRepository {
  constructor(private readonly db: Queryable) {}

  async issue(userId: string, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
    const token = `${TokenPrefix}${randomBytes(32).toString('base64url')}`
    const r = await this.db.query<{ expires_at: Date }>(
      `INSERT INTO user_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
       RETURNING expires_at`,
      [hashToken(token), userId, ttlSeconds],
    )
    // Housekeeping rides on logins: expired tokens of this user go.
    await this.db.query('DELETE FROM user_tokens WHERE user_id = $1 AND expires_at < now()', [userId])
    return { token, expiresAt: msOf(r.rows[0]!.expires_at) }
  }

  /** The live token's user: not expired, not revoked, user not disabled. */
  async findActive(token: string): Promise<TokenOwner | undefined> {
    const r = await this.db.query<{
      id: string
      name: string
      role: UserRole
      site_id: string | null
      agent_id: string | null
      expires_at: Date
    }>(
      `SELECT u.id, u.name, u.role, u.site_id, u.agent_id, t.expires_at
       FROM user_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now() AND u.disabled_at IS NULL`,
      [hashToken(token)],
    )
    const row = r.rows[0]
    if (row === undefined) return undefined
    return {
      user: { id: row.id, name: row.name, role: row.role, siteId: row.site_id, agentId: row.agent_id },
      expiresAt: msOf(row.expires_at),
    }
  }

  async revoke(token: string): Promise<boolean> {
    const r = await this.db.query(
      'UPDATE user_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL',
      [hashToken(token)],
    )
    return r.rowCount === 1
  }

  async revokeAllOf(userId: string): Promise<number> {
    const r = await this.db.query('UPDATE user_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
    ])
    return r.rowCount
  }
}
