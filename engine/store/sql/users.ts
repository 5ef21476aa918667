/**
 * Users who log in with a password (agents at their desktops, supervisors, QA). Passwords are stored as scrypt
 * hashes (`scrypt$N$r$p$salt$hash`): slow on purpose, unlike API-key hashes, since people pick guessable passwords.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { UserRole } from './api-keys.js'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface User {
  id: string
  name: string
  email: string
  role: UserRole
  /** null: platform-wide (admins only). */
  siteId: string | null
  /** The agent this user works as (role agent). */
  agentId: string | null
  createdAt: number
  disabled: boolean
}

interface UserRow {
  id: string
  name: string
  email: string
  role: UserRole
  site_id: string | null
  agent_id: string | null
  password_hash: string | null
  created_at: Date
  disabled_at: Date | null
}

const columns = 'id, name, email, role, site_id, agent_id, password_hash, created_at, disabled_at'

const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  email: r.email,
  role: r.role,
  siteId: r.site_id,
  agentId: r.agent_id,
  createdAt: msOf(r.created_at),
  disabled: r.disabled_at !== null,
})

const Scrypt = { N: 16384, r: 8, p: 1, keyLen: 32 }

function scrypt(password: string, salt: Buffer, keyLen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, Scrypt.keyLen, { N: Scrypt.N, r: Scrypt.r, p: Scrypt.p })
  return `scrypt$${Scrypt.N}$${Scrypt.r}$${Scrypt.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
  const expected = Buffer.from(parts[5]!, 'base64url')
  const key = await scrypt(password, Buffer.from(parts[4]!, 'base64url'), expected.length, { N, r, p, maxmem: 256 * N * r })
  return timingSafeEqual(key, expected)
}

// A login for an unknown email still spends one scrypt, so response time does not tell which emails exist.
let dummyHash: Promise<string> | undefined

export class UserRepository {
  constructor(private readonly db: Queryable) {}

  async create(u: {
    name: string
    email: string
    role: UserRole
    password: string
    siteId: string | null
    agentId?: string | null
  }): Promise<User> {
    const r = await this.db.query<UserRow>(
      `INSERT INTO users (name, email, role, password_hash, site_id, agent_id) VALUES ($1, lower($2), $3, $4, $5, $6)
       RETURNING ${columns}`,
      [u.name, u.email, u.role, await hashPassword(u.password), u.siteId, u.agentId ?? null],
    )
    return toUser(r.rows[0]!)
  }

  async get(id: string): Promise<User | undefined> {
    const r = await this.db.query<UserRow>(`SELECT ${columns} FROM users WHERE id = $1`, [id])
    return r.rows[0] && toUser(r.rows[0])
  }

  async list(siteId: string | null): Promise<User[]> {
    const r = await this.db.query<UserRow>(
      `SELECT ${columns} FROM users WHERE ($1::text IS NULL OR site_id = $1) ORDER BY created_at, id`,
      [siteId],
    )
    return r.rows.map(toUser)
  }

  /** The enabled user with this email and password, else undefined (never says which part was wrong). */
  async authenticate(email: string, password: string): Promise<User | undefined> {
    const r = await this.db.query<UserRow>(`SELECT ${columns} FROM users WHERE email = lower($1)`, [email])
    const row = r.rows[0]
    if (row === undefined || row.password_hash === null) {
      dummyHash ??= hashPassword('not a password of anyone')
      await verifyPassword(password, await dummyHash)
      return undefined
    }
    const ok = await verifyPassword(password, row.password_hash)
    return ok && row.disabled_at === null ? toUser(row) : undefined
  }

  async disable(id: string): Promise<boolean> {
    const r = await this.db.query('UPDATE users SET disabled_at = now() WHERE id = $1 AND disabled_at IS NULL', [id])
    return r.rowCount === 1
  }
}
