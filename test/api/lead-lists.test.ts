import t from 'tap'
import ExcelJS from 'exceljs'
import { importLeads, type SourceRow } from '../../engine/store/sql/lead-importer.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { settings } from '../store/sql/settings-fixture.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

interface ImportBody {
  id: string
  status: string
  rowsRead: number
  inserted: number
  duplicates: number
  bad: number
  badRows: Array<{ line: number; reason: string; value?: string }>
}

forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(db, h.pii)
  const campaign = await repos.campaigns.create({ name: 'Loans', settings: settings() })

  const createList = async (body: object, role: 'admin' | 'supervisor' = 'supervisor') =>
    app.inject({ method: 'POST', url: `/v1/campaigns/${campaign.id}/lead-lists`, headers: auth(role), payload: body })
  const importCsv = (listId: string, csv: string, query = '', role: 'admin' | 'supervisor' | 'qa' | 'agent' = 'supervisor') =>
    app.inject({
      method: 'POST',
      url: `/v1/lead-lists/${listId}/imports${query}`,
      headers: { ...auth(role), 'content-type': 'text/csv' },
      payload: csv,
    })

  const created = await createList({ name: 'May leads', source: 'crm-export.csv', region: 'CN' })
  t.equal(created.statusCode, 201, created.body)
  const list = created.json<{ id: string; campaignId: string; region: string; leadCount: number }>()
  t.equal(list.campaignId, campaign.id)
  t.equal(list.region, 'CN')
  t.equal(created.headers['location'], `/v1/lead-lists/${list.id}`)

  await t.test('an import with good and bad rows lands every good row and reports every bad one by line', async (t) => {
    const csv = [
      'Phone,Region,Timezone,Priority,customer_id', // line 1
      '13812340001,,,,c-1', // 2 good (list region CN)
      '+1 212 555 0123,US,America/New_York,5,c-2', // 3 good
      'not a number,,,,', // 4 bad number
      ',,,,c-4', // 5 empty phone
      '13812340002,,Mars/Olympus,,', // 6 bad zone
      '13812340003,,,high,', // 7 bad priority
      '+86 138 1234 0001,,,,', // 8 duplicate of line 2 (same E.164)
      '',
      '13812340004,ZZZ,,,', // 10 bad region
      '"13812340005",CN,Asia/Shanghai,1,c-5', // 11 good, quoted
      '13812340006,,,,', // 12 good
      '"13812340007,,,,', // 13 unclosed quote to end of file
    ].join('\n')
    const res = await importCsv(list.id, csv)
    t.equal(res.statusCode, 201, res.body)
    const r = res.json<ImportBody>()
    t.equal(r.status, 'done')
    t.equal(r.inserted, 4)
    t.equal(r.duplicates, 1)
    t.same(
      r.badRows.map((b) => b.line),
      [4, 5, 6, 7, 10, 13],
      'every bad row by its line in the file',
    )
    t.equal(r.bad, 6)
    t.equal(r.rowsRead, 11)
    t.match(r.badRows[0]!.reason, /^phone: invalid/)
    t.match(r.badRows[1]!.reason, /phone: empty/)
    t.match(r.badRows[2]!.reason, /timezone/)
    t.match(r.badRows[3]!.reason, /priority/)
    t.match(r.badRows[4]!.reason, /region/)
    t.match(r.badRows[5]!.reason, /unreadable CSV/)

    const leads = await repos.leads.list(campaign.id, { limit: 100 })
    t.same(
      leads.map((l) => l.e164).sort(),
      ['+12125550123', '+8613812340001', '+8613812340005', '+8613812340006'],
      'the good rows landed normalized to E.164',
    )
    const us = leads.find((l) => l.e164 === '+12125550123')!
    t.equal(us.timezone, 'America/New_York')
    t.equal(us.priority, 5)
    t.equal(us.customerId, 'c-2')

    const poll = await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/imports/${r.id}`, headers: auth('admin') })
    t.equal(poll.statusCode, 200)
    t.match(poll.json(), { id: r.id, status: 'done', rowsRead: 11, inserted: 4, duplicates: 1, bad: 6 })
    t.match(poll.json().finishedAt, /^\d{4}-/)

    const errs = await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/imports/${r.id}/errors?afterLine=5&limit=2`, headers: auth('admin') })
    t.same(errs.json().items.map((b: { line: number }) => b.line), [6, 7])
    t.equal(errs.json().nextAfterLine, 7)

    const all = await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/imports`, headers: auth('supervisor') })
    t.equal(all.json().items[0].id, r.id)
  })

  await t.test('a second file de-duplicates against the campaign; semicolons and ?region work', async (t) => {
    const other = (await createList({ name: 'June' })).json<{ id: string }>()
    const csv = '\ufeff手机;备注\n13812340001;again\n(0)20 7946 0018;london\n13812340008;new\n'
    const res = await importCsv(other.id, csv, '?region=GB&delimiter=%3B')
    t.equal(res.statusCode, 201, res.body)
    const r = res.json<ImportBody>()
    // With region GB, "13812340001" is not a valid GB number: bad; the London number lands.
    t.equal(r.inserted, 1)
    const res2 = await importCsv(other.id, '手机\n+8613812340001\n+8613812340008\n+8613812340008\n')
    const r2 = res2.json<ImportBody>()
    t.equal(r2.inserted, 1, 'one new number')
    t.equal(r2.duplicates, 2, 'one already in the campaign (other list), one repeated in the file')
    const got = await app.inject({ method: 'GET', url: `/v1/lead-lists/${other.id}`, headers: auth('qa') })
    t.equal(got.json().leadCount, 2)
  })

  await t.test('progress can be polled while an import runs: it shows what has committed', async (t) => {
    type Poll = { status: string; rowsRead: number; inserted: number; bad: number }
    const polls: Array<{ before: number; poll: Poll }> = []
    const target = (await createList({ name: 'Polled', region: 'CN' })).json<{ id: string }>()
    const imp = await repos.leadImports.create({ listId: target.id, campaignId: campaign.id, format: 'csv', actor: 'test' })
    const poll = async (before: number): Promise<Poll> => {
      const res = await app.inject({ method: 'GET', url: `/v1/lead-lists/${target.id}/imports/${imp.id}`, headers: auth('supervisor') })
      const p = res.json<Poll>()
      polls.push({ before, poll: p })
      return p
    }
    async function* rows(): AsyncGenerator<SourceRow> {
      yield { line: 1, cells: ['phone'] }
      for (let i = 0; i < 7; i++) {
        await poll(i)
        if (i === 6) {
          // Batches are written while the next one is read: the second batch (rows 3-5) commits while the reader
          // waits here, and a poll sees it before the import ends.
          const deadline = Date.now() + 10_000
          while ((await poll(i)).rowsRead < 6) {
            if (Date.now() > deadline) throw new Error('the second batch did not commit within 10 s while the import ran')
            await new Promise((r) => setTimeout(r, 5))
          }
        }
        yield i === 4 ? { line: i + 2, cells: ['nonsense'] } : { line: i + 2, cells: [`1390000100${i}`] }
      }
    }
    const totals = await importLeads(db, h.pii, rows(), { importId: imp.id, campaignId: campaign.id, listId: target.id, region: 'CN', batchSize: 3 })
    await repos.leadImports.finish(imp.id, { status: 'done' })
    t.same(totals, { rowsRead: 7, inserted: 6, duplicates: 0, bad: 1 })
    // A poll sees whole committed batches only: none, the first (rows 0-2), or the first two (rows 3-5, one bad).
    const committed = ['running 0 0 0', 'running 3 3 0', 'running 6 5 1']
    for (const { before, poll: p } of polls) {
      const state = `${p.status} ${p.rowsRead} ${p.inserted} ${p.bad}`
      t.ok(committed.includes(state), `before row ${before}: ${state} is a committed state`)
      // Only the latest full batch may still be in flight: before row i, every batch before it has committed.
      const mustHave = Math.max(0, Math.floor(before / 3) - 1) * 3
      t.ok(p.rowsRead >= mustHave, `before row ${before}: ${p.rowsRead} rows read, at least ${mustHave} must have committed`)
    }
    t.ok(polls.every((p, i) => i === 0 || p.poll.rowsRead >= polls[i - 1]!.poll.rowsRead), 'progress never goes back')
    t.equal(polls[polls.length - 1]!.poll.rowsRead, 6, 'the second batch was seen committed while the import ran')
    t.match(await poll(7), { status: 'done', rowsRead: 7, inserted: 6, bad: 1 })
  })

  await t.test('XLSX: the first sheet is imported the same way, numbers stored as numbers included', async (t) => {
    const wb = new ExcelJS.Workbook()
    const sheet = wb.addWorksheet('Leads')
    sheet.addRow(['手机', 'Priority'])
    sheet.addRow([13855550001, 2]) // a number cell
    sheet.addRow(['138 5555 0002', 1]) // a text cell
    sheet.addRow(['nope', 1]) // bad: line 4
    sheet.addRow([{ richText: [{ text: '1385555' }, { text: '0003' }] }, 'x']) // bad priority: line 5
    wb.addWorksheet('Notes').addRow(['ignored'])
    const xlsx = Buffer.from(await wb.xlsx.writeBuffer())
    const target = (await createList({ name: 'Excel', region: 'CN' })).json<{ id: string }>()
    const type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    const res = await app.inject({ method: 'POST', url: `/v1/lead-lists/${target.id}/imports`, headers: { ...auth('admin'), 'content-type': type }, payload: xlsx })
    t.equal(res.statusCode, 201, res.body)
    t.match(res.json(), { format: 'xlsx', status: 'done', rowsRead: 4, inserted: 2, bad: 2 })
    t.same(res.json().badRows.map((b: { line: number }) => b.line), [4, 5])
    const leads = await repos.leads.list(campaign.id, { limit: 100 })
    t.ok(leads.some((l) => l.e164 === '+8613855550001'), 'the number cell landed')
    const broken = await app.inject({ method: 'POST', url: `/v1/lead-lists/${target.id}/imports`, headers: { ...auth('admin'), 'content-type': type }, payload: Buffer.from('PK this is not a zip') })
    t.match(problem(t, broken, 422).detail, /not a readable XLSX file/)
  })

  await t.test('export streams the list as CSV', async (t) => {
    const res = await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/export`, headers: auth('admin') })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/csv/)
    const lines = res.body.trim().split('\n')
    t.equal(lines[0], 'id,phone,e164,region,timezone,status,attempts,priority,customer_id,last_attempt_at,created_at')
    t.equal(lines.length, 5, 'header + the 4 leads of the list')
    t.ok(lines.some((l) => l.includes('+12125550123') && l.includes('America/New_York')))
  })

  await t.test('refused and malformed imports answer 4xx problem details', async (t) => {
    const noPhone = problem(t, await importCsv(list.id, 'name,city\nA,B\n'), 422)
    t.match(noPhone.detail, /header naming the phone column/)
    t.type(noPhone['importId'], 'string')
    problem(t, await importCsv(list.id, ''), 422)
    const json = await app.inject({ method: 'POST', url: `/v1/lead-lists/${list.id}/imports`, headers: auth('admin'), payload: { phone: '1' } })
    problem(t, json, 415)
    problem(t, await importCsv('no-such-list', 'phone\n+8613812340001\n'), 404)
    problem(t, await importCsv('bad id', 'phone\n1\n'), 400)
    t.equal(problem(t, await importCsv(list.id, 'phone\n1\n', '?region=china'), 400).errors?.[0]?.field, 'querystring.region')
    t.equal(problem(t, await importCsv(list.id, 'phone\n1\n', '?delimiter=x'), 400).errors?.[0]?.field, 'querystring.delimiter')
    t.equal(problem(t, await createList({ name: '' }), 400).errors?.[0]?.field, 'body.name')
    t.equal(problem(t, await createList({ name: 'x', region: 'cn' }), 400).errors?.[0]?.field, 'body.region')
    t.equal(problem(t, await createList({ name: 'x', extra: 1 }), 400).errors?.[0]?.field, 'body.extra')
    problem(t, await app.inject({ method: 'POST', url: '/v1/campaigns/nope/lead-lists', headers: auth('admin'), payload: { name: 'x' } }), 404)
    problem(t, await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/imports/nope`, headers: auth('admin') }), 404)
    problem(t, await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/imports/x/errors?limit=0`, headers: auth('admin') }), 400)
    problem(t, await app.inject({ method: 'GET', url: '/v1/lead-lists/bad%20id/export', headers: auth('admin') }), 400)
    problem(t, await app.inject({ method: 'GET', url: '/v1/lead-lists/none/export', headers: auth('admin') }), 404)
    problem(t, await app.inject({ method: 'GET', url: `/v1/campaigns/${campaign.id}/lead-lists?limit=0`, headers: auth('admin') }), 400)
    problem(t, await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/imports?limit=abc`, headers: auth('admin') }), 400)
    problem(t, await app.inject({ method: 'GET', url: '/v1/lead-lists/none', headers: auth('admin') }), 404)
  })

  await t.test('roles: agents may not import, export or see lists; qa reads lists only', async (t) => {
    problem(t, await importCsv(list.id, 'phone\n+8613812340099\n', '', 'agent'), 403)
    problem(t, await importCsv(list.id, 'phone\n+8613812340099\n', '', 'qa'), 403)
    for (const url of [`/v1/lead-lists/${list.id}`, `/v1/campaigns/${campaign.id}/lead-lists`, `/v1/lead-lists/${list.id}/export`, `/v1/lead-lists/${list.id}/imports`]) {
      problem(t, await app.inject({ method: 'GET', url, headers: auth('agent') }), 403)
    }
    problem(t, await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}/export`, headers: auth('qa') }), 403)
    t.equal((await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}`, headers: auth('qa') })).statusCode, 200)
    problem(t, await app.inject({ method: 'POST', url: `/v1/campaigns/${campaign.id}/lead-lists`, headers: auth('qa'), payload: { name: 'x' } }), 403)
    problem(t, await app.inject({ method: 'GET', url: `/v1/lead-lists/${list.id}` }), 401)
  })
})
