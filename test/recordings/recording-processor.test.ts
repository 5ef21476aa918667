/**
 * Registered recordings on PostgreSQL through the real pipeline and media workers, without a call: the files are laid
 * out as rtpengine 10.5 lays them out (test/telephony/drachtio/recording.test.ts checks that on the real daemon).
 * A restarted engine finds what a dead one left (pending rows at once, claimed rows once their lease ran out, never a
 * live engine's); two engines draining together process each recording once; a recording that cannot be processed
 * is retried with backoff, then marked failed with its error, and its files stay on disk.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t, { type Test } from 'tap'
import { VirtualClock, type Clock } from '../../engine/clock.js'
import { RecordingPipeline, type RecordingJob } from '../../engine/recordings/recording-pipeline.js'
import { RecordingProcessor } from '../../engine/recordings/recording-processor.js'
import { dueWithoutEnd } from '../../engine/recordings/recording-registry.js'
import { PiiCipher } from '../../engine/security/pii-cipher.js'
import type { Db } from '../../engine/store/sql/db.js'
import { migrate } from '../../engine/store/sql/migrate.js'
import { RecordingRegistrationRepository, type NewRecordingRegistration } from '../../engine/store/sql/recording-registrations.js'
import { RecordingRepository } from '../../engine/store/sql/recordings.js'
import { buildRtp } from '../../engine/media/rtp.js'
import { writeRawPcap, type UdpDatagram } from '../../workers/pcap.js'
import { MediaWorkerPool } from '../../workers/pool.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { loadConfig } from '../../config/config.js'

process.env['OPUS_FORCE_WASM'] = '1'

const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'silent' })
const root = mkdtempSync(join(tmpdir(), 'cadence-processor-'))
t.teardown(() => rmSync(root, { recursive: true, force: true }))
const AGENT = '127.0.0.1:40002'
const CUSTOMER = '10.0.0.9:5004'

/** One rtpengine segment of a call: `seconds` of both parties, starting `atS` into the call. */
function segment(dir: string, callId: string, hex: string, atS: number, seconds: number): void {
  mkdirSync(join(dir, 'pcaps'), { recursive: true })
  mkdirSync(join(dir, 'metadata'), { recursive: true })
  const t0 = 1_800_000_000_000_000 + atS * 1e6
  const datagrams: UdpDatagram[] = []
  for (let i = 0; i < seconds * 50; i++) {
    const payload = new Uint8Array(160).fill(i % 2 ? 0x7f : 0xff)
    const rtp = (ssrc: number) => buildRtp({ payloadType: 0, sequence: atS * 50 + i, timestamp: (atS * 50 + i) * 160, ssrc, payload })
    datagrams.push({ timeUs: t0 + i * 20_000, source: AGENT, destination: '127.0.0.1:30000', payload: rtp(1) })
    datagrams.push({ timeUs: t0 + i * 20_000 + 1000, source: CUSTOMER, destination: '127.0.0.1:30002', payload: rtp(2) })
  }
  const pcap = join(dir, 'pcaps', `${callId}-${hex}.pcap`)
  writeFileSync(pcap, writeRawPcap(datagrams))
  writeFileSync(join(dir, 'metadata', `rtpengine-meta-${callId}-${hex}.txt`), `/elsewhere/pcaps/${callId}-${hex}.pcap\n\n\ncadence:call=${callId}\n`)
}

function registration(dir: string, callId: string, segments: number): NewRecordingRegistration {
  return {
    callId,
    siteId: 'default',
    campaignId: 'camp-1',
    leadId: null,
    customerId: null,
    agentId: 'ag-1',
    legs: [{ party: 'customer', id: 'tag' }, { party: 'agent', id: 'ag-1', source: AGENT }],
    startedAt: 1_800_000_000_000,
    durationMs: 3000,
    recordedMs: 2000,
    recordingDir: dir,
    segments,
  }
}

async function setup(t: Test, clock: Clock, opts: { layout?: 'stereo' | 'mixed'; dieAfterStore?: Set<string> } = {}) {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  await migrate(test.db)
  const config = loadConfig({ env: { DATABASE_URL: 'memory', CADENCE_PII_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`, CADENCE_PII_LOOKUP_KEY: Buffer.alloc(32, 9).toString('base64') } })
  const pii = new PiiCipher(config.pii!)
  const workers = new MediaWorkerPool({ threads: 1, maxQueue: 16 })
  t.teardown(() => workers.close())
  const dir = mkdtempSync(join(root, 'spool-'))
  const outputDir = join(dir, 'opus')
  mkdirSync(outputDir)
  const pipeline = new RecordingPipeline({ pool: workers, db: test.db, pii, clock, log: logger, outputDir, ...(opts.layout ? { layout: opts.layout } : {}) })
  const registrations = new RecordingRegistrationRepository(test.db, pii)
  const recordings = new RecordingRepository(test.db, pii)
  const processed: string[] = []
  const processor = (owner: string, maxCallMs = 3600_000, policy = { retryMs: 1000, maxRetryMs: 10_000, maxAttempts: 3, segmentWaitAttempts: 1 }) =>
    new RecordingProcessor({
      registrations,
      recordingOfCall: (callId) => recordings.getByCall(callId),
      lead: async () => undefined,
      customerByNumber: async (e164, siteId) => (e164 === '+8613800138000' && siteId === 'default' ? 'cust-7' : undefined),
      campaignSite: async () => 'default',
      pipeline: {
        process: async (job: RecordingJob) => {
          processed.push(job.call.callId)
          const done = await pipeline.process(job)
          // the engine dies between storing the recording and marking its registration: the next attempt finds that
          if (opts.dieAfterStore?.delete(job.call.callId)) throw new Error('engine died')
          return done
        },
      },
      clock,
      logger,
      owner,
      recordingDir: dir,
      recorded: () => true,
      keywords: () => undefined,
      policy,
      batch: 2,
      maxCallMs,
    })
  return { db: test.db, dir, outputDir, registrations, recordings, processed, processor }
}

t.test('a restarted engine processes what a dead one left, and never what a live one holds', async (t) => {
  const clock = new VirtualClock(1_800_000_100_000)
  const s = await setup(t, clock)
  for (const id of ['left-pending', 'left-claimed', 'live-claimed']) {
    segment(s.dir, id, 'aaaaaaaaaaaaaaaa', 0, 1)
    segment(s.dir, id, 'bbbbbbbbbbbbbbbb', 2, 1)
    t.ok(await s.registrations.add(registration(s.dir, id, 2), clock.now()))
  }
  t.notOk(await s.registrations.begin(registration(s.dir, 'left-pending', 2), clock.now(), clock.now()), 'a start registered after the end changes nothing')
  // the dead engine had claimed one, under a lease that has run out by now; a live engine holds another
  await s.db.query(`UPDATE recording_registrations SET state = 'processing', claimed_by = 'engine-dead', lease_until = $1 WHERE call_id = 'left-claimed'`, [new Date(clock.now() - 1)])
  await s.db.query(`UPDATE recording_registrations SET state = 'processing', claimed_by = 'engine-alive', lease_until = $1 WHERE call_id = 'live-claimed'`, [new Date(clock.now() + 600_000)])

  const b = s.processor('engine-b')
  b.kick()
  await b.idle()
  t.strictSame([...s.processed].sort(), ['left-claimed', 'left-pending'], 'the live engine\'s recording is not taken')
  for (const id of ['left-claimed', 'left-pending']) {
    const r = await s.registrations.get(id)
    t.equal(r!.state, 'done', `${id} done`)
    const rec = await s.recordings.getByCall(id)
    t.equal(rec!.id, r!.recordingId, 'the registration names its recording row')
    t.equal(rec!.channels, 2, 'both parties, apart')
    t.ok(rec!.durationMs >= 2900, `the gap between the segments is kept (${rec!.durationMs} ms for 2 s recorded over 3 s)`)
    t.ok(existsSync(join(s.outputDir, `${id}.opus`)))
    t.equal(readdirSync(join(s.dir, 'pcaps')).filter((f) => f.startsWith(`${id}-`)).length, 0, 'rtpengine\'s pcaps removed')
    t.equal(readdirSync(join(s.dir, 'metadata')).filter((f) => f.includes(id)).length, 0, 'and their metadata')
  }
  t.notOk(await s.registrations.add(registration(s.dir, 'left-pending', 2), clock.now()), 'an end reported again changes a processed registration in nothing')
  t.equal((await s.registrations.get('left-pending'))!.state, 'done')
  t.equal((await s.registrations.get('live-claimed'))!.state, 'processing')
  t.equal(readdirSync(join(s.dir, 'pcaps')).filter((f) => f.startsWith('live-claimed-')).length, 2, 'its files untouched')
  await b.stop()
})

t.test('an engine that died mid-call: the recording registered at its start is processed once the call is surely over', async (t) => {
  const clock = new VirtualClock(1_800_000_100_000)
  const s = await setup(t, clock)
  const maxCallMs = 3600_000
  const startedAt = clock.now()
  const dying = s.processor('engine-dying', maxCallMs)
  dying.onRecordingStarted({ callId: 'orphan', campaignId: 'camp-1', leadId: 'lead-9', agentId: 'ag-1', legs: registration(s.dir, 'x', 1).legs, startedAt })
  await dying.idle()
  // the engine is gone: rtpengine wrote a segment before a pause, and is still writing the second one
  segment(s.dir, 'orphan', 'eeeeeeeeeeeeeeee', 0, 1)
  segment(s.dir, 'orphan', 'ffffffffffffffff', 2, 1)
  rmSync(join(s.dir, 'metadata', 'rtpengine-meta-orphan-ffffffffffffffff.txt'))
  const reg = (await s.registrations.get('orphan'))!
  t.match(reg, { state: 'pending', segments: 1, durationMs: 0, agentId: 'ag-1' })
  t.equal(reg.nextAttemptAt, dueWithoutEnd(startedAt, maxCallMs), 'due after the longest call allowed')
  const b = s.processor('engine-b')
  b.kick()
  await b.idle()
  t.strictSame(s.processed, [], 'not before the call is surely over')
  clock.advanceBy(reg.nextAttemptAt - clock.now())
  b.kick()
  await b.idle()
  t.strictSame(s.processed, [], 'a pcap rtpengine is still writing is waited for')
  t.match(await s.registrations.get('orphan'), { state: 'pending', attempts: 1, lastError: /1 of 2 pcaps/ })
  // rtpengine's own session timeout closes the pcap and moves its metadata file into place
  writeFileSync(join(s.dir, 'metadata', 'rtpengine-meta-orphan-ffffffffffffffff.txt'), '/elsewhere/pcaps/orphan-ffffffffffffffff.pcap\n')
  clock.advanceBy((await s.registrations.get('orphan'))!.nextAttemptAt - clock.now())
  b.kick()
  await b.idle()
  t.strictSame(s.processed, ['orphan'])
  const done = (await s.registrations.get('orphan'))!
  t.equal(done.state, 'done')
  t.ok((await s.recordings.getByCall('orphan'))!.durationMs >= 2900, 'both segments, the gap between them kept')
})

t.test('stored but not marked (the engine died in between): the next attempt finds the recording row and finishes', async (t) => {
  const clock = new VirtualClock(1_800_000_100_000)
  const s = await setup(t, clock, { dieAfterStore: new Set(['half-done']), layout: 'mixed' })
  segment(s.dir, 'half-done', '1111111111111111', 0, 1)
  await s.registrations.add(registration(s.dir, 'half-done', 1), clock.now())
  const p = s.processor('engine-a')
  p.kick()
  await p.idle()
  const first = (await s.registrations.get('half-done'))!
  t.match(first, { state: 'pending', attempts: 1, recordingId: null })
  const stored = (await s.recordings.getByCall('half-done'))!
  t.equal(stored.channels, 1, 'the mixed layout gives one channel')
  t.equal(readdirSync(join(s.dir, 'pcaps')).length, 0, 'the pcap was deleted once its Opus file was verified')
  clock.advanceBy(first.nextAttemptAt - clock.now())
  p.kick()
  await p.idle()
  const done = (await s.registrations.get('half-done'))!
  t.match(done, { state: 'done', recordingId: stored.id })
  t.equal(s.processed.length, 1, 'nothing processed twice')
  t.equal(readdirSync(join(s.dir, 'metadata')).length, 0, 'the metadata file is removed too')
})

t.test('two engines draining together process each recording once', async (t) => {
  const clock = new VirtualClock(1_800_000_100_000)
  const s = await setup(t, clock)
  const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']
  for (const id of ids) {
    segment(s.dir, id, 'cccccccccccccccc', 0, 1)
    await s.registrations.add(registration(s.dir, id, 1), clock.now())
  }
  const a = s.processor('engine-a')
  const b = s.processor('engine-b')
  a.kick()
  b.kick()
  await Promise.all([a.idle(), b.idle()])
  t.strictSame([...s.processed].sort(), ids, 'each once')
  t.strictSame(await s.registrations.countByState(), { done: 6 })
})

t.test('a recording that cannot be processed is retried with backoff, then marked failed; its files stay', async (t) => {
  const clock = new VirtualClock(1_800_000_100_000)
  const s = await setup(t, clock)
  mkdirSync(join(s.dir, 'pcaps'), { recursive: true })
  mkdirSync(join(s.dir, 'metadata'), { recursive: true })
  const broken = join(s.dir, 'pcaps', 'bad-dddddddddddddddd.pcap')
  // a pcap header and no packet: there is no audio to compress
  writeFileSync(broken, writeRawPcap([]))
  writeFileSync(join(s.dir, 'metadata', 'rtpengine-meta-bad-dddddddddddddddd.txt'), `${broken}\n`)
  await s.registrations.add(registration(s.dir, 'bad', 1), clock.now())
  const p = s.processor('engine-a')
  const waits: number[] = []
  for (let attempt = 1; attempt <= 3; attempt++) {
    p.kick()
    await p.idle()
    const r = (await s.registrations.get('bad'))!
    t.equal(r.attempts, attempt, `attempt ${attempt} counted`)
    t.match(r.lastError, /no G\.711 RTP/, 'the error is kept')
    t.ok(existsSync(broken), 'the pcap stays')
    if (attempt < 3) {
      t.equal(r.state, 'pending')
      waits.push(r.nextAttemptAt - clock.now())
      p.kick()
      await p.idle()
      t.equal((await s.registrations.get('bad'))!.attempts, attempt, 'not tried again before its time')
      clock.advanceBy(r.nextAttemptAt - clock.now())
    } else t.equal(r.state, 'failed', 'given up after the last attempt')
  }
  t.strictSame(waits, [1000, 2000], 'backoff doubles')
})

t.test("an inbound call (no lead): the caller's number is registered encrypted, and the recording carries it and its customer", async (t) => {
  const clock = new VirtualClock(1_800_000_100_000)
  const s = await setup(t, clock)
  segment(s.dir, 'inbound-1', 'eeeeeeeeeeeeeeee', 0, 1)
  const p = s.processor('engine-a')
  p.onRecorded({
    callId: 'inbound-1', campaignId: 'camp-1', leadId: 'inbound:inbound-1', agentId: 'ag-1',
    legs: [{ party: 'customer', id: 'tag' }, { party: 'agent', id: 'ag-1', source: AGENT }],
    startedAt: 1_800_000_000_000, endedAt: 1_800_000_001_000, recordedMs: 1000, segments: 1,
    number: '138 0013 8000',
  })
  await p.idle()
  const raw = await s.db.query<Record<string, unknown>>("SELECT * FROM recording_registrations WHERE call_id = 'inbound-1'")
  t.equal(raw.rows.length, 1)
  t.notMatch(JSON.stringify(raw.rows[0]), /138\D?0013\D?8000|13800138000/, 'no column of the registration holds the number in the clear')
  t.ok(raw.rows[0]!['number_enc'], 'it is sealed in number_enc')
  const reg = await s.registrations.get('inbound-1')
  t.equal(reg?.number, '+8613800138000', 'and opens to its E.164 form')
  t.equal(reg?.customerId, 'cust-7', 'the CRM named the caller')
  t.equal(reg?.state, 'done')
  const rec = await s.recordings.getByCall('inbound-1')
  t.equal(rec?.number, '+8613800138000', 'the recording is found by the caller\'s number')
  t.equal(rec?.customerId, 'cust-7', 'and by its customer')
  await t.rejects(new RecordingRegistrationRepository(s.db).get('inbound-1'), /PiiCipher/, 'a repository without the keys refuses to read it')
})
