/**
 * Recordings: the workers' outputs land in the tables (a real Opus file from compress-recording, keyword hits from
 * spot-keywords' result), search by every filter, streamed playback with HTTP ranges, download, and who may see what
 * (an agent only their own calls, another site nothing: 404 like a missing recording).
 */
import t from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import compressRecording from '../../workers/compress-recording.js'
import { pcmWav } from '../../workers/wav.js'
import { storeCompressedRecording, storeKeywordSpotting } from '../../engine/qa/ingest.js'
import { forEachDriver } from '../store/sql/databases.js'
import { problem } from './problem-assert.js'
import { qaWorld } from './qa-fixture.js'

interface RecordingBody {
  id: string
  callId: string
  agentId: string | null
  number: string | null
  disposition: string | null
  requiredMissing: string[] | null
  sizeBytes: number
  durationMs: number
  checksumSha256: string
  format: string
}
interface Page {
  items: RecordingBody[]
  total: number
}

const T0 = Date.parse('2026-11-16T02:00:00Z')
const Hour = 3_600_000

forEachDriver(t, async (t, db) => {
  const w = await qaWorld(db)
  t.teardown(() => w.close())
  const { app, auth } = w.h

  // A real call's recording: 2 s of stereo tone through the worker, stored by the ingestion the engine calls.
  const samples = new Int16Array(2 * 16000)
  for (let i = 0; i < 16000; i++) {
    samples[2 * i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000))
    samples[2 * i + 1] = Math.round(6000 * Math.sin((2 * Math.PI * 660 * i) / 8000))
  }
  const wavPath = join(w.dir, 'call-real.wav')
  writeFileSync(wavPath, pcmWav({ sampleRate: 8000, channels: 2, samples }))
  const compressed = await compressRecording({ input: wavPath, output: join(w.dir, 'call-real.opus') })
  const realCall = {
    callId: 'call-real',
    siteId: 'default',
    campaignId: w.campaignId,
    agentId: w.agentA,
    customerId: 'cust-1',
    startedAt: T0,
    number: '+8613812345678',
  }
  await w.repos.cdrs.insert({
    callId: 'call-real', campaignId: w.campaignId, leadId: 'lead-real', agentId: w.agentA, outcome: 'connected',
    disposition: 'complaint', dialedAt: T0 - 3000, endedAt: T0 + 2000, talkSeconds: 2, abandoned: false,
  })
  const stored = await storeCompressedRecording(db, w.pii, realCall, compressed)
  const realId = stored.recording.id

  await t.test('compress-recording output is stored once per call, number encrypted and found by hash', async (t) => {
    t.equal(stored.created, true)
    t.equal(stored.recording.format, 'opus')
    t.equal(stored.recording.sizeBytes, readFileSync(compressed.output).length)
    t.equal(stored.recording.checksumSha256, compressed.sha256)
    t.equal(stored.recording.durationMs, 2000)
    t.equal(stored.recording.channels, 2)
    const again = await storeCompressedRecording(db, w.pii, realCall, compressed)
    t.equal(again.created, false, 'a retried task stores nothing twice')
    t.equal(again.recording.id, realId)
    const raw = await db.query<{ number_enc: string }>('SELECT number_enc FROM recordings WHERE id = $1', [realId])
    t.notMatch(raw.rows[0]!.number_enc, /13812345678/, 'no plaintext number in the database')
    const audits = await w.repos.audit.list({ entity: 'recording', entityId: realId, limit: 10 })
    t.equal(audits.length, 1, 'one audit entry for the one recording')
  })

  await t.test('spot-keywords output lands as hits and missing required phrases', async (t) => {
    await storeKeywordSpotting(db, realId, {
      recording: compressed.output,
      hits: [
        { keyword: '投诉', party: 'customer', atMs: 1200, confidence: 0.8 },
        { keyword: '您好', party: 'agent', atMs: 100, confidence: 0.9 },
      ],
      required: [
        { keyword: '您好', present: true },
        { keyword: '录音', present: false },
      ],
    })
    const res = await app.inject({ method: 'GET', url: `/v1/recordings/${realId}`, headers: auth('qa') })
    t.equal(res.statusCode, 200, res.body)
    const body = res.json<{ recording: RecordingBody; keywordHits: Array<{ keyword: string; party: string; atMs: number; required: boolean }> }>()
    t.same(body.recording.requiredMissing, ['录音'])
    t.equal(body.recording.disposition, 'complaint')
    t.equal(body.recording.number, '+8613812345678')
    t.same(body.keywordHits.map((h) => [h.keyword, h.party, h.atMs, h.required]), [
      ['您好', 'agent', 100, true],
      ['投诉', 'customer', 1200, false],
    ])
    t.notOk('path' in body.recording, 'the file path stays inside')
    await t.rejects(storeKeywordSpotting(db, 'no-such-recording', { recording: 'x', hits: [], required: [] }), /no such recording/)
  })

  // More calls for the filters: agent B, another campaign day, another number, another site.
  const b1 = await w.addRecording({ callId: 'call-b1', agentId: w.agentB, startedAt: T0 + Hour, number: '+8613900000001', disposition: 'no-interest' })
  const a2 = await w.addRecording({ callId: 'call-a2', agentId: w.agentA, startedAt: T0 + 2 * Hour, customerId: 'cust-2', format: 'wav', bytes: 4000 })
  const a3 = await w.addRecording({ callId: 'call-a3', agentId: w.agentA, startedAt: T0 + 30 * Hour })
  const sz = await w.addRecording({ callId: 'call-sz', agentId: w.agentSz, siteId: 'shenzhen', startedAt: T0 + Hour, number: '+8613812345678' })

  const search = async (query: string, headers = auth('qa')): Promise<Page> => {
    const res = await app.inject({ method: 'GET', url: `/v1/recordings?${query}`, headers })
    if (res.statusCode !== 200) throw new Error(`search ${query}: ${res.statusCode} ${res.body}`)
    return res.json<Page>()
  }
  const ids = (p: Page) => p.items.map((r) => r.id)

  await t.test('search filters: time, number, customer, agent, campaign, disposition, keyword, paging', async (t) => {
    t.same(ids(await search('')), [a3, a2, b1, realId], 'newest first, own site only')
    const from = encodeURIComponent(new Date(T0 + Hour).toISOString())
    const to = encodeURIComponent(new Date(T0 + 3 * Hour).toISOString())
    t.same(ids(await search(`from=${from}&to=${to}`)), [a2, b1], 'from inclusive, to exclusive')
    t.same(ids(await search(`number=${encodeURIComponent('138 1234 5678')}`)), [realId], 'a national number, by hash, this site only')
    t.same(ids(await search('number=%2B8613900000001')), [b1])
    t.same(ids(await search('customerId=cust-2')), [a2])
    t.same(ids(await search(`agentId=${w.agentB}`)), [b1])
    t.same(ids(await search(`campaignId=${w.campaignId}&agentId=${w.agentA}`)), [a3, a2, realId])
    t.same(ids(await search('disposition=no-interest')), [b1])
    t.same(ids(await search(`keyword=${encodeURIComponent('投诉')}`)), [realId])
    t.same(ids(await search(`keyword=${encodeURIComponent('退款')}`)), [])
    const page = await search('limit=2&offset=1')
    t.same(ids(page), [a2, b1])
    t.equal(page.total, 4)
    t.equal((await search('limit=2&offset=10')).total, 4, 'total past the last page')
  })

  await t.test('malformed search input answers problem details naming the field', async (t) => {
    const bad = problem(t, await app.inject({ method: 'GET', url: '/v1/recordings?number=abc', headers: auth('qa') }), 400)
    t.equal(bad.errors?.[0]?.field, 'querystring.number')
    const order = problem(t, await app.inject({ method: 'GET', url: `/v1/recordings?from=2026-11-17T00:00:00Z&to=2026-11-16T00:00:00Z`, headers: auth('qa') }), 400)
    t.equal(order.errors?.[0]?.field, 'querystring.to')
    problem(t, await app.inject({ method: 'GET', url: '/v1/recordings?from=yesterday', headers: auth('qa') }), 400)
    problem(t, await app.inject({ method: 'GET', url: '/v1/recordings?limit=0', headers: auth('qa') }), 400)
    problem(t, await app.inject({ method: 'GET', url: '/v1/recordings?disposition=DROP%20TABLE', headers: auth('qa') }), 400)
  })

  await t.test('playback: whole file, first bytes, a middle range, a suffix, 416', async (t) => {
    const file = readFileSync(compressed.output)
    const url = `/v1/recordings/${realId}/audio`
    const whole = await app.inject({ method: 'GET', url, headers: auth('supervisor') })
    t.equal(whole.statusCode, 200)
    t.equal(whole.headers['content-type'], 'audio/ogg; codecs=opus')
    t.equal(whole.headers['accept-ranges'], 'bytes')
    t.equal(Number(whole.headers['content-length']), file.length)
    t.ok(whole.rawPayload.equals(file), 'the stored file, byte for byte')
    t.notOk(whole.headers['content-disposition'], 'played inline')

    const first = await app.inject({ method: 'GET', url, headers: { ...auth('qa'), range: 'bytes=0-3' } })
    t.equal(first.statusCode, 206)
    t.equal(first.rawPayload.toString('latin1'), 'OggS', 'an Ogg page starts the file')
    t.equal(first.headers['content-range'], `bytes 0-3/${file.length}`)
    t.equal(Number(first.headers['content-length']), 4)

    const mid = await app.inject({ method: 'GET', url, headers: { ...auth('qa'), range: 'bytes=100-299' } })
    t.equal(mid.statusCode, 206)
    t.ok(mid.rawPayload.equals(file.subarray(100, 300)))
    t.equal(mid.headers['content-range'], `bytes 100-299/${file.length}`)

    const open = await app.inject({ method: 'GET', url, headers: { ...auth('qa'), range: `bytes=${file.length - 10}-` } })
    t.equal(open.statusCode, 206)
    t.ok(open.rawPayload.equals(file.subarray(file.length - 10)))

    const suffix = await app.inject({ method: 'GET', url, headers: { ...auth('qa'), range: 'bytes=-50' } })
    t.equal(suffix.statusCode, 206)
    t.ok(suffix.rawPayload.equals(file.subarray(file.length - 50)))
    t.equal(suffix.headers['content-range'], `bytes ${file.length - 50}-${file.length - 1}/${file.length}`)

    const past = await app.inject({ method: 'GET', url, headers: { ...auth('qa'), range: `bytes=${file.length}-` } })
    problem(t, past, 416)
    t.equal(past.headers['content-range'], `bytes */${file.length}`)
    problem(t, await app.inject({ method: 'GET', url, headers: { ...auth('qa'), range: 'bytes=-0' } }), 416)

    const junk = await app.inject({ method: 'GET', url, headers: { ...auth('qa'), range: 'pages=1-2' } })
    t.equal(junk.statusCode, 200, 'a range unit we do not serve is ignored')
    t.equal(junk.rawPayload.length, file.length)
  })

  await t.test('download names the file; wav is served as audio/wav', async (t) => {
    const res = await app.inject({ method: 'GET', url: `/v1/recordings/${a2}/download`, headers: auth('qa') })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], 'audio/wav')
    t.equal(res.headers['content-disposition'], 'attachment; filename="call-a2.wav"')
    t.equal(res.rawPayload.length, 4000)
    const resumed = await app.inject({ method: 'GET', url: `/v1/recordings/${a2}/download`, headers: { ...auth('qa'), range: 'bytes=3000-' } })
    t.equal(resumed.statusCode, 206)
    t.equal(resumed.rawPayload.length, 1000)
    const audits = await w.repos.audit.list({ entity: 'recording', entityId: a2, limit: 10 })
    t.same(audits.map((a) => a.action), ['download'], 'the download is audited once, its resumption not')
  })

  await t.test('agents read only their own recordings; another site looks missing', async (t) => {
    const asA = w.bearer(w.agentAKey)
    t.same(ids(await search('', asA)), [a3, a2, realId])
    t.same(ids(await search(`agentId=${w.agentB}`, asA)), [], 'naming another agent widens nothing')
    const missing = problem(t, await app.inject({ method: 'GET', url: '/v1/recordings/no-such-recording', headers: asA }), 404)
    const other = problem(t, await app.inject({ method: 'GET', url: `/v1/recordings/${b1}`, headers: asA }), 404)
    t.equal(other.type, missing.type)
    t.equal(other.title, missing.title)
    problem(t, await app.inject({ method: 'GET', url: `/v1/recordings/${b1}/audio`, headers: asA }), 404)
    problem(t, await app.inject({ method: 'GET', url: `/v1/recordings/${b1}/download`, headers: asA }), 404)
    t.equal((await app.inject({ method: 'GET', url: `/v1/recordings/${realId}/audio`, headers: { ...asA, range: 'bytes=0-1' } })).statusCode, 206)

    const szQa = w.bearer(w.szQaKey)
    t.same(ids(await search('', szQa)), [sz])
    t.same(ids(await search('number=%2B8613812345678', szQa)), [sz], 'the same number in another site stays apart')
    problem(t, await app.inject({ method: 'GET', url: `/v1/recordings/${realId}`, headers: szQa }), 404)
    problem(t, await app.inject({ method: 'GET', url: `/v1/recordings/${realId}/audio`, headers: szQa }), 404)
    problem(t, await app.inject({ method: 'GET', url: `/v1/recordings/${sz}`, headers: auth('qa') }), 404)
    const admin = await search('', auth('admin'))
    t.equal(admin.total, 5, 'a platform admin sees every site')
  })

  await t.test('a recording whose file is gone answers 404 and logs it', async (t) => {
    rmSync(join(w.dir, 'call-a3.opus'))
    problem(t, await app.inject({ method: 'GET', url: `/v1/recordings/${a3}/audio`, headers: auth('qa') }), 404)
    t.ok(w.h.logLines.some((l) => l.includes('recording file missing') && l.includes(a3)))
  })
})
