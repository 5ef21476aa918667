/**
 * DNC numbers at rest (schema 0019): a listed number is held only as a ciphertext bound to its entry and a keyed hash;
 * it is found, de-duplicated and listed by that hash; a ciphertext moved onto another entry does not open; prefixes
 * stay readable; entries an older version stored in the clear are sealed by the start-up pass (a clear copy of an
 * entry already sealed is dropped), and readers take either form meanwhile.
 */
import t from 'tap'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { DncRepository } from '../../../engine/store/sql/dnc.js'
import { sealDncNumbers } from '../../../engine/security/seal-dnc-numbers.js'
import type { Db } from '../../../engine/store/sql/db.js'
import { forEachDriver } from './databases.js'
import { testPii } from '../../fixtures/pii.js'

/** Every column of every entry as text: a number in the clear anywhere in a row shows up here. */
async function rawRows(db: Db): Promise<string[]> {
  const r = await db.query<{ row: string }>('SELECT dnc_entries::text AS row FROM dnc_entries ORDER BY id')
  return r.rows.map((x) => x.row)
}

forEachDriver(t, async (t, db) => {
  await migrate(db)
  const pii = testPii()
  const dnc = new DncRepository(db, pii)

  await t.test('a listed number is sealed and found by its hash; a prefix stays as written', async (t) => {
    const added = await dnc.addMany([
      { kind: 'number', number: '+8613900139001', reason: 'complaint', source: 'api' },
      { kind: 'prefix', number: '+861065' },
    ])
    t.equal(added.length, 2)
    t.match(added[0], { kind: 'number', number: '+8613900139001', reason: 'complaint' }, 'the caller gets the number back')
    const rows = await rawRows(db)
    t.notOk(rows.some((r) => /13900139001/.test(r)), 'no row holds the number in the clear')
    t.ok(rows.some((r) => r.includes('+861065')), 'the prefix is readable')
    t.equal((await dnc.addMany([{ kind: 'number', number: '+8613900139001' }])).length, 0, 'listed again: nothing new (the hash is unique per list)')
    t.equal((await dnc.addMany([{ kind: 'number', number: '+8613900139001', campaignId: undefined }])).length, 0)
    t.match(await dnc.find(undefined, 'number', '+8613900139001'), { id: added[0]!.id, number: '+8613900139001' })
    t.equal(await dnc.find(undefined, 'number', '+8613900139009'), undefined)
    const listed = await dnc.list({ scope: 'all', number: '+8613900139001' }, { limit: 10, offset: 0 })
    t.same(listed.items.map((e) => e.id), [added[0]!.id], 'listed by number through the hash')
    t.equal((await dnc.page('', 10)).find((e) => e.kind === 'number')?.number, '+8613900139001', 'the mirror rebuild reads it')
  })

  await t.test('a ciphertext moved onto another entry does not open', async (t) => {
    const [a, b] = await dnc.addMany([
      { kind: 'number', number: '+8613900139101' },
      { kind: 'number', number: '+8613900139102' },
    ])
    await db.query('UPDATE dnc_entries SET number_enc = (SELECT number_enc FROM dnc_entries WHERE id = $1) WHERE id = $2', [a!.id, b!.id])
    await t.rejects(dnc.get(b!.id), 'bound to its own entry')
    await db.query('DELETE FROM dnc_entries WHERE id = $1', [b!.id])
  })

  await t.test('entries an older version wrote in the clear: read as they are, then sealed once; a clear copy of a sealed one goes', async (t) => {
    await db.query(`INSERT INTO dnc_entries (kind, number, source) VALUES ('number', '+8613900139201', 'old'), ('number', '+8613900139001', 'old copy')`)
    t.match(await dnc.find(undefined, 'number', '+8613900139201'), { number: '+8613900139201', source: 'old' }, 'an unsealed entry is found as written')
    const first = await sealDncNumbers(db, pii, { batch: 1 })
    t.same(first, { sealed: 1, duplicates: 1 }, 'one sealed; the clear copy of a number already sealed in that list is dropped')
    t.same(await sealDncNumbers(db, pii), { sealed: 0, duplicates: 0 }, 'nothing left the second time')
    t.notOk((await rawRows(db)).some((r) => /13900139201|13900139001/.test(r)), 'no number in the clear any more')
    t.match(await dnc.find(undefined, 'number', '+8613900139201'), { number: '+8613900139201', source: 'old' }, 'found by its hash now')
    const all = await dnc.list({ scope: 'all', kind: 'number' }, { limit: 100, offset: 0 })
    t.equal(all.items.filter((e) => e.number === '+8613900139001').length, 1, 'one entry for the number')
  })

  await t.test('a repository without the keys refuses a number but still lists prefixes', async (t) => {
    const keyless = new DncRepository(db)
    await t.rejects(keyless.addMany([{ kind: 'number', number: '+8613900139301' }]), /PiiCipher/)
    t.equal((await keyless.addMany([{ kind: 'prefix', number: '+861066' }])).length, 1)
  })
})
