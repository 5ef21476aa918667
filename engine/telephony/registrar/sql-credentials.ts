/**
 * Agents' SIP credentials in PostgreSQL (migration 0009: sip_username, sip_realm, sip_ha1 on agents). Setting a
 * password stores only its HA1 for the realm; the registrar looks agents up by SIP username.
 */
import type { Queryable } from '../../store/sql/db.js'
import { ha1Of } from './digest.js'
import type { SipCredential } from './registration.js'

/** Where the registrar finds an agent's credential; the SQL one below in production. */
export interface SipCredentialSource {
  byUsername(username: string): Promise<SipCredential | undefined>
}

interface Row {
  id: string
  sip_username: string
  sip_realm: string
  sip_ha1: string
  active: boolean
}

export class SqlSipCredentials implements SipCredentialSource {
  constructor(private readonly db: Queryable) {}

  async byUsername(username: string): Promise<SipCredential | undefined> {
    const r = await this.db.query<Row>(
      'SELECT id, sip_username, sip_realm, sip_ha1, active FROM agents WHERE sip_username = $1',
      [username],
    )
    const row = r.rows[0]
    return row && { agentId: row.id, username: row.sip_username, realm: row.sip_realm, ha1: row.sip_ha1, active: row.active }
  }

  /** Sets (or replaces) the agent's SIP username and password; false when no such agent. */
  async setPassword(agentId: string, username: string, realm: string, password: string): Promise<boolean> {
    if (password.length < 8) throw new Error('SIP password too short: at least 8 characters')
    const r = await this.db.query('UPDATE agents SET sip_username = $2, sip_realm = $3, sip_ha1 = $4 WHERE id = $1', [
      agentId,
      username,
      realm,
      ha1Of(username, realm, password),
    ])
    return r.rowCount === 1
  }

  /** Removes the agent's SIP credentials: its phones can no longer register. */
  async clear(agentId: string): Promise<boolean> {
    const r = await this.db.query('UPDATE agents SET sip_username = NULL, sip_realm = NULL, sip_ha1 = NULL WHERE id = $1', [agentId])
    return r.rowCount === 1
  }
}
