/** Agents' SIP credentials (migration 0009) on both database drivers. */
import t from 'tap'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { AgentRepository } from '../../../engine/store/sql/agents.js'
import { ha1Of } from '../../../engine/telephony/registrar/digest.js'
import { SqlSipCredentials } from '../../../engine/telephony/registrar/sql-credentials.js'
import { forEachDriver } from '../../store/sql/databases.js'

forEachDriver(t, async (t, db) => {
  await migrate(db)
  const agents = new AgentRepository(db)
  const creds = new SqlSipCredentials(db)
  const a = await agents.create({ name: 'Alice' })
  const b = await agents.create({ name: 'Bob' })
  t.equal(await creds.byUsername('alice'), undefined, 'nobody before a password is set')
  t.equal(await creds.setPassword(a.id, 'alice', 'cadence.test', 'alice-secret-1'), true)
  t.strictSame(await creds.byUsername('alice'), { agentId: a.id, username: 'alice', realm: 'cadence.test', ha1: ha1Of('alice', 'cadence.test', 'alice-secret-1'), active: true })
  const stored = await db.query<{ row: string }>('SELECT row_to_json(agents)::text AS row FROM agents WHERE id = $1', [a.id])
  t.notMatch(stored.rows[0]!.row, /alice-secret-1/, 'the password itself is not stored')
  await t.rejects(creds.setPassword(b.id, 'alice', 'cadence.test', 'bob-secret-12'), 'usernames are unique')
  await t.rejects(creds.setPassword(b.id, 'bo b', 'cadence.test', 'bob-secret-12'), 'no spaces in a SIP username')
  await t.rejects(creds.setPassword(b.id, 'bob', 'cadence.test', 'short'), /too short/)
  t.equal(await creds.setPassword('nobody', 'carol', 'cadence.test', 'carol-secret-1'), false)
  await agents.setActive(a.id, false)
  t.equal((await creds.byUsername('alice'))?.active, false, 'inactive agents are found, the registrar refuses them')
  t.equal(await creds.clear(a.id), true)
  t.equal(await creds.byUsername('alice'), undefined)
  await t.rejects(db.query("UPDATE agents SET sip_username = 'x' WHERE id = $1", [b.id]), 'a username without a hash is refused')
})
