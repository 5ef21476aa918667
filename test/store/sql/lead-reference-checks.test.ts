/**
 * Migration 0015 replaced the per-row foreign keys of leads.campaign_id and leads.list_id by per-statement checks
 * (lead imports spent ~40% of PostgreSQL's time in them). The checks must refuse what the foreign keys refused, with
 * the same SQLSTATE (23503, which the API answers as a problem naming a missing record), on both drivers.
 */
import t from 'tap'
import type { Db } from '../../../engine/store/sql/db.js'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { repositories } from '../../../engine/store/sql/repositories.js'
import { forEachDriver } from './databases.js'
import { settings } from './settings-fixture.js'
import { testPii } from '../../fixtures/pii.js'

/** The SQLSTATE and constraint a statement fails with, or 'ok'. */
async function outcome(db: Db, sql: string, params: readonly unknown[]): Promise<string> {
  try {
    await db.query(sql, params)
    return 'ok'
  } catch (err) {
    const e = err as { code?: string; constraint?: string }
    return `${e.code ?? '?'} ${e.constraint ?? '?'}`
  }
}

const insertLeads = `INSERT INTO leads (campaign_id, list_id, phone, e164)
  SELECT t.campaign, t.list, t.phone, t.phone FROM unnest($1::text[], $2::text[], $3::text[]) AS t(campaign, list, phone)`

forEachDriver(t, async (t, db) => {
  await migrate(db)
  const repos = repositories(db, testPii())
  const campaign = await repos.campaigns.create({ name: 'Refs', settings: settings() })
  const other = await repos.campaigns.create({ name: 'Other', settings: settings() })
  const list = await repos.leadLists.create({ campaignId: campaign.id, name: 'refs' })
  const unused = await repos.leadLists.create({ campaignId: campaign.id, name: 'unused' })

  t.equal(await outcome(db, insertLeads, [[campaign.id, campaign.id], [list.id, null], ['+8613800000001', '+8613800000002']]), 'ok', 'known campaign and list, or no list')
  t.equal(
    await outcome(db, insertLeads, [[campaign.id, 'no-such-campaign'], [list.id, list.id], ['+8613800000003', '+8613800000004']]),
    '23503 leads_campaign_id_fkey',
    'one row of the statement naming a missing campaign refuses the statement',
  )
  t.equal(
    await outcome(db, insertLeads, [[campaign.id, campaign.id], [list.id, 'no-such-list'], ['+8613800000005', '+8613800000006']]),
    '23503 leads_list_id_fkey',
    'a missing list is refused',
  )
  const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM leads')
  t.equal(count.rows[0]!.n, 2, 'nothing of a refused statement landed')

  const lead = (await db.query<{ id: string }>('SELECT id FROM leads WHERE list_id = $1', [list.id])).rows[0]!.id
  t.equal(await outcome(db, 'UPDATE leads SET list_id = $2 WHERE id = $1', [lead, 'no-such-list']), '23503 leads_list_id_fkey', 'moving a lead to a missing list')
  t.equal(await outcome(db, 'UPDATE leads SET campaign_id = $2 WHERE id = $1', [lead, 'no-such-campaign']), '23503 leads_campaign_id_fkey', 'moving a lead to a missing campaign')
  t.equal(await outcome(db, 'UPDATE leads SET list_id = $2 WHERE id = $1', [lead, unused.id]), 'ok', 'moving a lead to an existing list')
  t.equal(await outcome(db, 'UPDATE leads SET campaign_id = $2 WHERE id = $1', [lead, other.id]), 'ok', 'moving a lead to an existing campaign')
  t.equal(await outcome(db, 'UPDATE leads SET status = $2 WHERE id = $1', ['no-such-lead', 'done']), 'ok')

  t.equal(await outcome(db, 'DELETE FROM lead_lists WHERE id = $1', [unused.id]), '23503 leads_list_id_fkey', 'a list a lead names cannot be deleted')
  t.equal(await outcome(db, 'UPDATE lead_lists SET id = $2 WHERE id = $1', [unused.id, 'renamed']), '23503 leads_list_id_fkey', 'nor its id changed')
  t.equal(await outcome(db, 'UPDATE lead_lists SET name = $2 WHERE id = $1', [unused.id, 'renamed']), 'ok', 'other columns change freely')
  t.equal(await outcome(db, 'DELETE FROM campaigns WHERE id = $1', [other.id]), '23503 leads_campaign_id_fkey', 'a campaign a lead names cannot be deleted')
  t.equal(await outcome(db, 'DELETE FROM lead_lists WHERE id = $1', [list.id]), 'ok', 'a list no lead names any more can be deleted')
  const c = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM lead_lists WHERE id = $1', [list.id])).rows[0]!.n
  t.equal(c, 0)
})
