/**
 * Lead numbers at rest (schema 0017): whichever way a lead is written (insertMany, an import batch, a screening
 * outcome that learned its E.164 form), the row holds no number in the clear, only a ciphertext bound to the lead and
 * a keyed hash; de-duplication still works on the hash; a ciphertext moved onto another lead does not open; and leads
 * an older version stored in the clear are sealed by the start-up pass without losing one.
 */
import t from 'tap'
import { importLeads, type SourceRow } from '../../../engine/store/sql/lead-importer.js'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { repositories } from '../../../engine/store/sql/repositories.js'
import { sealLeadNumbers, unsealedLeadNumbers } from '../../../engine/security/seal-lead-numbers.js'
import type { Db } from '../../../engine/store/sql/db.js'
import { forEachDriver } from './databases.js'
import { settings } from './settings-fixture.js'
import { testPii } from '../../fixtures/pii.js'

/** Every column of every lead row as text: a number in the clear anywhere in the row shows up here. */
async function rawRows(db: Db, campaignId: string): Promise<string[]> {
  const r = await db.query<{ row: string }>('SELECT leads::text AS row FROM leads WHERE campaign_id = $1', [campaignId])
  return r.rows.map((x) => x.row)
}

forEachDriver(t, async (t, db) => {
  await migrate(db)
  const pii = testPii()
  const repos = repositories(db, pii)

  await t.test('insertMany and an import seal the number; the row holds none of its digits', async (t) => {
    const c = await repos.campaigns.create({ name: 'sealed', settings: settings() })
    const inserted = await repos.leads.insertMany(c.id, [
      { phone: '139 0013 9001', e164: '+8613900139001', timezone: 'Asia/Shanghai' },
      { phone: '+8613900139002' },
    ])
    const list = await repos.leadLists.create({ campaignId: c.id, name: 'file', region: 'CN' })
    const imp = await repos.leadImports.create({ listId: list.id, campaignId: c.id, format: 'csv', actor: 'test' })
    async function* rows(): AsyncGenerator<SourceRow> {
      yield { line: 1, cells: ['phone'] }
      yield { line: 2, cells: ['13900139003'] }
      yield { line: 3, cells: ['+86 139-0013-9001'] } // the first lead again, written another way
    }
    const totals = await importLeads(db, pii, rows(), { importId: imp.id, campaignId: c.id, listId: list.id, region: 'CN' })
    t.match(totals, { inserted: 1, duplicates: 1 }, 'the repeat is found by its hash')

    const raw = await rawRows(db, c.id)
    t.equal(raw.length, 3)
    for (const row of raw) {
      t.notMatch(row, /0013\s?9|1390013900/, 'no digits of the number in the row')
      t.match(row, /v1\.k1\./, 'a ciphertext of the current key')
    }
    const clear = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM leads WHERE campaign_id = $1 AND (phone IS NOT NULL OR e164 IS NOT NULL)', [c.id])
    t.equal(clear.rows[0]!.n, 0)

    const first = await repos.leads.get(inserted.insertedIds[0]!)
    t.match(first, { phone: '139 0013 9001', e164: '+8613900139001', timezone: 'Asia/Shanghai' }, 'read back as written')
    const second = await repos.leads.get(inserted.insertedIds[1]!)
    t.equal(second?.phone, '+8613900139002')
    t.equal(second?.e164, undefined, 'no E.164 form given, none invented')
    const exported = await repos.leadLists.exportPage(list.id, 0, 10)
    t.same(exported.map((l) => [l.phone, l.e164]), [['13900139003', '+8613900139003']], 'export opens the number')

    // A lead that arrived without its E.164 form gets it (and its hash) when screening learned it.
    await repos.leads.recordOutcome({ ...second!, e164: '+8613900139002', status: 'no-answer', attemptTimes: [Date.now()] })
    t.match(await repos.leads.get(second!.id), { phone: '+8613900139002', e164: '+8613900139002', status: 'no-answer' })
    const again = await repos.leads.insertMany(c.id, [{ phone: '13900139002', e164: '+8613900139002' }])
    t.equal(again.duplicates, 1, 'the learned number now de-duplicates')
  })

  await t.test('a ciphertext moved onto another lead does not open', async (t) => {
    const c = await repos.campaigns.create({ name: 'moved', settings: settings() })
    const { insertedIds: [a, b] } = await repos.leads.insertMany(c.id, [
      { phone: '+8613900139011', e164: '+8613900139011' },
      { phone: '+8613900139012', e164: '+8613900139012' },
    ])
    await db.query('UPDATE leads SET number_enc = (SELECT number_enc FROM leads WHERE id = $1) WHERE id = $2', [a, b])
    await t.rejects(repos.leads.get(b!), 'decrypting with the other lead as additional data fails')
    t.equal((await repos.leads.get(a!))?.e164, '+8613900139011')
  })

  await t.test('leads stored in the clear by an earlier version are sealed at start-up, each once', async (t) => {
    const c = await repos.campaigns.create({ name: 'legacy', settings: settings() })
    // What 0001-0016 wrote: the number in the clear columns, no ciphertext, no hash.
    await db.query(
      `INSERT INTO leads (id, campaign_id, phone, e164, timezone)
       SELECT 'legacy-' || lpad(i::text, 4, '0'), $1, '139' || lpad(i::text, 8, '0'), CASE WHEN i % 3 = 0 THEN NULL ELSE '+86139' || lpad(i::text, 8, '0') END, 'Asia/Shanghai'
       FROM generate_series(1, 25) AS i`,
      [c.id],
    )
    t.equal(await unsealedLeadNumbers(db), 25)
    const legacy = await repos.leads.get('legacy-0001')
    t.match(legacy, { phone: '13900000001', e164: '+8613900000001' }, 'readable before the pass, from the clear columns')

    const progress: number[] = []
    t.equal(await sealLeadNumbers(db, pii, { batch: 10, onProgress: (n) => progress.push(n) }), 25)
    t.same(progress, [10, 20, 25], 'in batches')
    t.equal(await unsealedLeadNumbers(db), 0)
    t.equal(await sealLeadNumbers(db, pii), 0, 'running again seals nothing')
    for (const row of await rawRows(db, c.id)) t.notMatch(row, /1390000/, 'no digits left in the clear')
    t.match(await repos.leads.get('legacy-0001'), { phone: '13900000001', e164: '+8613900000001' })
    t.match(await repos.leads.get('legacy-0003'), { phone: '13900000003' })
    t.equal((await repos.leads.get('legacy-0003'))?.e164, undefined)
    const dup = await repos.leads.insertMany(c.id, [{ phone: '13900000002', e164: '+8613900000002' }, { phone: '13900000003', e164: '+8613900000003' }])
    t.equal(dup.duplicates, 1, 'a sealed legacy number de-duplicates by its hash; one that had no E.164 form cannot')
  })
})
