import t from 'tap'
import { DefaultBatchSize, importLeads, type SourceRow } from '../../../engine/store/sql/lead-importer.js'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { repositories } from '../../../engine/store/sql/repositories.js'
import { forEachDriver } from './databases.js'
import { settings } from './settings-fixture.js'
import { testPii } from '../../fixtures/pii.js'

/**
 * 2.5 default batches of rows with bad ones and repeats put on and around the batch boundaries, handed over in runs
 * of uneven length (as a parser hands them over) that do not line up with the batches.
 */
const Rows = Math.floor(DefaultBatchSize * 2.5)
const B = DefaultBatchSize
const BadNumber = new Set([0, B - 2, B - 1, B, B + 1, 2 * B - 1, Rows - 1])
const Unreadable = new Set([B - 3, 2 * B])
/** Row -> the earlier row it repeats (the same number written the other way); across a boundary and within a batch. */
const Repeats = new Map([
  [B + 2, 5],
  [2 * B + 1, 2 * B - 2],
  [300, 299],
])

const nsn = (i: number) => `139${String(i).padStart(8, '0')}`
const lineOf = (i: number) => i + 2 // the header is line 1

function row(i: number): SourceRow {
  if (Unreadable.has(i)) return { line: lineOf(i), error: 'unreadable CSV: text after the closing quote of field 1' }
  if (BadNumber.has(i)) return { line: lineOf(i), cells: [`no-${i}`, `c-${i}`] }
  const n = Repeats.get(i) ?? i
  return { line: lineOf(i), cells: [i % 2 === 0 ? nsn(n) : `+86${nsn(n)}`, `c-${i}`] }
}

async function* runs(): AsyncGenerator<SourceRow[]> {
  let run: SourceRow[] = [{ line: 1, cells: ['Phone', 'Customer ID'] }]
  for (let i = 0; i < Rows; i++) {
    run.push(row(i))
    if (run.length === 777) {
      yield run
      run = []
    }
  }
  if (run.length > 0) yield run
}

forEachDriver(t, async (t, db) => {
  await migrate(db)
  const pii = testPii()
  const repos = repositories(db, pii)
  const campaign = await repos.campaigns.create({ name: 'Big file', settings: settings() })
  const list = await repos.leadLists.create({ campaignId: campaign.id, name: 'big', region: 'CN' })
  const imp = await repos.leadImports.create({ listId: list.id, campaignId: campaign.id, format: 'csv', actor: 'test' })

  const totals = await importLeads(db, pii, runs(), { importId: imp.id, campaignId: campaign.id, listId: list.id, region: 'CN' })
  const bad = BadNumber.size + Unreadable.size
  t.same(totals, { rowsRead: Rows, inserted: Rows - bad - Repeats.size, duplicates: Repeats.size, bad })

  const progress = await repos.leadImports.get(imp.id)
  t.match(progress, { rowsRead: Rows, inserted: totals.inserted, duplicates: Repeats.size, bad }, 'the progress a poll sees is the totals')

  const badRows = await repos.leadImports.badRows(imp.id, 0, 1000)
  t.same(
    badRows.map((b) => b.line),
    [...BadNumber, ...Unreadable].sort((a, b) => a - b).map(lineOf),
    'every bad row by its line, on both sides of each batch boundary',
  )
  const first = badRows.find((b) => b.line === lineOf(0))!
  t.match(first, { reason: /^phone: invalid-format/, value: 'no-0' })
  t.match(badRows.find((b) => b.line === lineOf(2 * B))!, { reason: /^unreadable CSV/ })

  // The good rows landed once each, in file order (the hopper's order), normalized to E.164, with their cells.
  const want: string[] = []
  for (let i = 0; i < Rows; i++) if (!BadNumber.has(i) && !Unreadable.has(i) && !Repeats.has(i)) want.push(`+86${nsn(i)} c-${i}`)
  const got: string[] = []
  for (let after = 0; ; ) {
    const page = await repos.leadLists.exportPage(list.id, after, 5000)
    for (const l of page) got.push(`${l.e164} ${l.customerId}`)
    if (page.length < 5000) break
    after = page[page.length - 1]!.seq
  }
  t.equal(got.length, want.length)
  t.same(got, want, 'every good row, in file order')
  const ids = new Set<string>()
  const page = await repos.leadLists.exportPage(list.id, 0, 5000)
  for (const l of page) ids.add(l.id)
  t.equal(ids.size, page.length, 'ids are unique')
  t.ok(page.every((l, i) => i === 0 || page[i - 1]!.id < l.id), 'ids are made in order (time-ordered UUIDs)')
})

t.test('a batch that fails to write stops the import: the error comes out, nothing after it lands', async (t) => {
  forEachDriver(t, async (t, db) => {
    await migrate(db)
    const pii = testPii()
  const repos = repositories(db, pii)
    const campaign = await repos.campaigns.create({ name: 'Broken', settings: settings() })
    const list = await repos.leadLists.create({ campaignId: campaign.id, name: 'real', region: 'CN' })
    const imp = await repos.leadImports.create({ listId: list.id, campaignId: campaign.id, format: 'csv', actor: 'test' })
    let read = 0
    async function* rows(): AsyncGenerator<SourceRow> {
      yield { line: 1, cells: ['phone'] }
      for (let i = 0; i < 10; i++, read++) yield { line: i + 2, cells: [nsn(i)] }
    }
    // The leads name a list that does not exist: the first batch's insert is refused (23503) while the next is read.
    const err = await importLeads(db, pii, rows(), { importId: imp.id, campaignId: campaign.id, listId: 'no-such-list', region: 'CN', batchSize: 3 }).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    )
    t.equal(err?.code, '23503', 'the write error is thrown')
    t.ok(read < 10, `reading stopped at the failed batch (${read} of 10 rows read)`)
    t.match(await repos.leadImports.get(imp.id), { rowsRead: 0, inserted: 0, bad: 0 }, 'no batch committed')
    const n = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM leads WHERE campaign_id = $1', [campaign.id])
    t.equal(n.rows[0]!.n, 0, 'no lead landed')
  })
})

t.test("a bad row that looks like someone's number is kept masked; the line still finds it", async (t) => {
  forEachDriver(t, async (t, db) => {
    await migrate(db)
    const pii = testPii()
    const repos = repositories(db, pii)
    const campaign = await repos.campaigns.create({ name: 'Typos', settings: settings() })
    const list = await repos.leadLists.create({ campaignId: campaign.id, name: 'typos', region: 'CN' })
    const imp = await repos.leadImports.create({ listId: list.id, campaignId: campaign.id, format: 'csv', actor: 'test' })
    async function* rows(): AsyncGenerator<SourceRow> {
      yield { line: 1, cells: ['phone'] }
      yield { line: 2, cells: ['138 0013 8000 99'] } // a digit too many
      yield { line: 3, cells: ['n/a'] }
    }
    await importLeads(db, pii, rows(), { importId: imp.id, campaignId: campaign.id, listId: list.id, region: 'CN' })
    const bad = await repos.leadImports.badRows(imp.id, 0, 10)
    t.same(bad.map((b) => b.line), [2, 3])
    t.notMatch(bad[0]!.value ?? '', /0013|80009/, 'the digits are not stored')
    t.match(bad[0]!.value, /^138\*+99$/, 'masked: enough to recognise it beside its line')
    t.equal(bad[1]!.value, 'n/a', 'a value that is no number is shown as it was')
  })
})
