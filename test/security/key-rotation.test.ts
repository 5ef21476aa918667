/**
 * Key rotation end to end on real PostgreSQL: rows of every encrypted kind (a lead's number too) written under key k1;
 * k2 added and made current; `cadence pii reencrypt` (the function it runs) leaves no k1 ciphertext in any column of
 * the registry, and an API running with k2 only reads every record back. A column missing from the registry keeps a
 * k1 ciphertext and fails the scan below, which reads every `*_enc` column of the schema.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { PiiCipher } from '../../engine/security/pii-cipher.js'
import { EncryptedColumns } from '../../engine/security/encrypted-columns.js'
import { reencryptAll, staleCiphertexts } from '../../engine/security/reencrypt.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { harness } from '../api/harness.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { settings } from '../store/sql/settings-fixture.js'
import { RecordingRegistrationRepository } from '../../engine/store/sql/recording-registrations.js'
import { DncRepository } from '../../engine/store/sql/dnc.js'

t.test('rotate personal-data keys without losing a record', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const k1 = randomBytes(32).toString('base64')
  const k2 = randomBytes(32).toString('base64')
  const lookup = randomBytes(32).toString('base64')
  const before = await harness(test.db, { env: { CADENCE_PII_KEYS: `k1:${k1}`, CADENCE_PII_LOOKUP_KEY: lookup } })

  const created = await before.app.inject({
    method: 'POST', url: '/v1/customers', headers: before.auth('supervisor'),
    payload: { name: '王小明', phones: [{ number: '13800138000' }], profile: { address: '某市某路1号' } },
  })
  t.equal(created.statusCode, 201, created.body)
  const customer = created.json<{ id: string }>()
  t.equal((await before.app.inject({ method: 'POST', url: `/v1/customers/${customer.id}/notes`, headers: before.auth('supervisor'), payload: { text: '客户要求下周回电' } })).statusCode, 201)
  const due = new Date(Date.now() + 86_400_000)
  due.setUTCSeconds(0, 0)
  const cb = await before.app.inject({ method: 'POST', url: `/v1/customers/${customer.id}/callbacks`, headers: before.auth('supervisor'), payload: { dueAt: due.toISOString(), assignee: 'anyone', note: '下午三点' } })
  t.equal(cb.statusCode, 201, cb.body)
  t.equal((await before.app.inject({ method: 'POST', url: '/v1/webhooks', headers: before.auth('admin'), payload: { url: 'http://127.0.0.1:9/x', eventTypes: ['call.ended'] } })).statusCode, 201)
  const repos = repositories(test.db, before.pii)
  const campaign = await repos.campaigns.create({ name: 'rotation', settings: settings() })
  const lead = (await repos.leads.insertMany(campaign.id, [{ phone: '138 0013 8001', e164: '+8613800138001' }])).insertedIds[0]!
  // an inbound caller's number, kept with its recording's registration until the recording row has it
  const registration = {
    callId: 'inbound-call-1', siteId: 'default', campaignId: campaign.id, leadId: 'inbound:inbound-call-1', customerId: null, agentId: null,
    legs: [], startedAt: Date.now(), durationMs: 1000, recordedMs: 1000, recordingDir: '/tmp', segments: 1, number: '+8613800138002',
  }
  t.ok(await new RecordingRegistrationRepository(test.db, before.pii).add(registration, Date.now()))
  t.equal((await new DncRepository(test.db, before.pii).addMany([{ kind: 'number', number: '+8613800138003' }])).length, 1)
  await before.app.close()

  // Every *_enc column of the schema must be in the registry, or rotation would leave it behind.
  const cols = await test.db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name LIKE '%\\_enc' ORDER BY 1, 2`,
  )
  const registered = new Set(EncryptedColumns.map((c) => `${c.table}.${c.column}`))
  for (const c of cols.rows) t.ok(registered.has(`${c.table_name}.${c.column_name}`), `${c.table_name}.${c.column_name} is in the rotation registry`)

  const rotated = new PiiCipher({ keys: new Map([['k1', Buffer.from(k1, 'base64')], ['k2', Buffer.from(k2, 'base64')]]), currentKeyId: 'k2', lookupKey: Buffer.from(lookup, 'base64') })
  const stale = await staleCiphertexts(test.db, rotated)
  t.equal(stale, 9, `${stale} ciphertexts of k1 before rotation`)
  const reports = await reencryptAll(test.db, rotated, { batch: 2 })
  t.equal(reports.reduce((n, r) => n + r.reencrypted, 0), stale)
  t.equal(await staleCiphertexts(test.db, rotated), 0)
  t.same(await reencryptAll(test.db, rotated).then((r) => r.reduce((n, x) => n + x.reencrypted, 0)), 0, 'running again changes nothing')

  // k1 retired: the API reads everything with k2 alone, and finds the customer by phone (lookup hashes unchanged).
  const after = await harness(test.db, { migrated: true, env: { CADENCE_PII_KEYS: `k2:${k2}`, CADENCE_PII_LOOKUP_KEY: lookup } })
  t.teardown(() => after.app.close())
  const read = await after.app.inject({ method: 'GET', url: `/v1/customers/${customer.id}`, headers: after.auth('supervisor') })
  t.equal(read.statusCode, 200, read.body)
  t.match(read.json(), { name: '王小明', profile: { address: '某市某路1号' }, phones: [{ number: '+8613800138000' }] })
  const byPhone = await after.app.inject({ method: 'GET', url: '/v1/customers?phone=%2B86%20138%200013%208000', headers: after.auth('supervisor') })
  t.equal(byPhone.json<{ items: Array<{ id: string }> }>().items[0]?.id, customer.id)
  const timeline = await after.app.inject({ method: 'GET', url: `/v1/customers/${customer.id}/timeline`, headers: after.auth('supervisor') })
  t.match(timeline.body, /客户要求下周回电/)
  t.match(await repositories(test.db, after.pii).leads.get(lead), { phone: '138 0013 8001', e164: '+8613800138001' }, 'the lead opens with k2 alone')
  t.equal((await new RecordingRegistrationRepository(test.db, after.pii).get('inbound-call-1'))?.number, '+8613800138002', "and so does a recording registration's caller number")
  t.equal((await new DncRepository(test.db, after.pii).find(undefined, 'number', '+8613800138003'))?.number, '+8613800138003', 'and a DNC entry')
})
