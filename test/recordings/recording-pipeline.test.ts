/**
 * A finished call's recording through the real media workers into what QA searches: keywords spotted on the WAV, the
 * audio compressed to Opus with the original deleted, the recording and its hits found through the QA API; and a
 * busy pool (the worker queue refusing) retried later without losing the file.
 */
import t from 'tap'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VirtualClock } from '../../engine/clock.js'
import { RecordingPipeline, type WorkerSubmit } from '../../engine/recordings/recording-pipeline.js'
import { MediaWorkerPool, QueueFullError } from '../../workers/pool.js'
import { pcmWav } from '../../workers/wav.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { concat, mix, noise, silence } from '../media/signals.js'
import { say } from '../workers/speech.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { harness } from '../api/harness.js'

// Known issue: with @evan/opus's native addon loaded in a worker thread, this test process (pg, Fastify and the pool
// together) ends in SIGSEGV at exit after every assertion passed; test/workers/pool.test.ts alone does not. Until that
// is understood the pipeline is tested on the addon's WASM build (same libopus, byte-identical output).
process.env['OPUS_FORCE_WASM'] = '1'

const V = 'cmn-latn-pinyin'
const dir = mkdtempSync(join(tmpdir(), 'cadence-rec-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function wav(name: string, samples: Int16Array, channels = 1): string {
  const file = join(dir, name)
  writeFileSync(file, pcmWav({ sampleRate: 8000, channels, samples }))
  return file
}

function stereo(a: Int16Array, b: Int16Array): Int16Array {
  const n = Math.max(a.length, b.length)
  const s = new Int16Array(2 * n)
  for (let i = 0; i < n; i++) {
    s[2 * i] = a[i] ?? 0
    s[2 * i + 1] = b[i] ?? 0
  }
  return s
}

const examples = ['+m1', '+m2', '+m4', '+f1', '+f2', '+f5'].flatMap((v) =>
  ([[140, 40], [175, 60]] as const).map(([speed, pitch]) => ({
    keyword: '退款',
    file: wav(`refund${v}-${speed}.wav`, concat(silence(200), say(V + v, 'tui4 kuan3', speed, pitch), silence(200))),
  })),
)

t.test('a recording goes from WAV to a searchable, compressed QA recording', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const h = await harness(test.db)
  t.teardown(() => h.app.close())
  const pool = new MediaWorkerPool({ threads: 1, maxQueue: 8 })
  t.teardown(() => pool.close())
  const repos = repositories(test.db)
  const agent = await repos.agents.create({ id: 'ag-1', name: 'Ag' })
  const clock = new VirtualClock(Date.parse('2026-11-20T02:00:00Z'))
  const logs: string[] = []
  const log = { info: (o: object, m: string) => void logs.push(m), warn: (o: object, m: string) => void logs.push(m), error: (o: object, m: string) => void logs.push(m) }

  const customer = concat(silence(1500), say(`${V}+m3`, 'wo3 xiang3 shen1 qing3 tui4 kuan3, xie4 xie4'), silence(500))
  const agentSide = concat(silence(200), say(`${V}+f4`, 'ni3 hao3, qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2'), silence(2000))
  const n = Math.max(customer.length, agentSide.length)
  const call = stereo(mix(agentSide, noise(n / 8, 80, 1)), mix(customer, noise(n / 8, 80, 2)))

  // The pool refuses the first task (its queue full), as a busy site's would; the job waits and goes through later.
  let refusals = 1
  const busyOnce: WorkerSubmit = {
    submit: (name, payload) => (refusals-- > 0 ? Promise.reject(new QueueFullError(name, 8)) : pool.submit(name, payload)),
  }
  const pipeline = new RecordingPipeline({ pool: busyOnce, db: test.db, pii: h.pii, clock, log, retryMs: 5000 })
  const input = wav('call-42.wav', call, 2)
  const done = new Promise<{ recordingId: string } | { error: Error }>((resolve) =>
    pipeline.enqueue({ call: { callId: 'call-42', siteId: 'default', agentId: agent.id, startedAt: clock.now(), number: '+8613800138000' }, input, keywords: { examples, required: ['退款', '投诉'] } }, resolve),
  )
  t.equal(pipeline.inFlight, 1)
  t.ok(existsSync(input), 'refused for now: the original stays on disk')
  // Once the refusal has scheduled the retry, its time comes.
  while (clock.nextAt() === undefined) await new Promise((resolve) => setImmediate(resolve))
  clock.advanceBy(5000)
  const r = await done
  if ('error' in r) throw r.error
  t.equal(pipeline.inFlight, 0)
  t.ok(logs.includes('media workers busy; recording kept on disk, retrying'))
  t.notOk(existsSync(input), 'the original is deleted once the compressed file is verified')
  t.ok(existsSync(join(dir, 'call-42.opus')))

  const found = await h.app.inject({ method: 'GET', url: '/v1/recordings?keyword=退款', headers: h.auth('qa') })
  t.equal(found.statusCode, 200, found.body)
  const items = found.json<{ items: Array<{ id: string; callId: string }> }>().items
  t.same(items.map((i) => i.callId), ['call-42'], 'QA finds the call by its keyword')
  const one = await h.app.inject({ method: 'GET', url: `/v1/recordings/${r.recordingId}`, headers: h.auth('qa') })
  t.match(one.json(), { keywordHits: [{ keyword: '退款', party: 'customer' }] })
  const byNumber = await h.app.inject({ method: 'GET', url: '/v1/recordings?number=13800138000&region=CN', headers: h.auth('qa') })
  t.equal(byNumber.json<{ items: unknown[] }>().items.length, 1, 'and by the customer’s number in another format')
  const audio = await h.app.inject({ method: 'GET', url: `/v1/recordings/${r.recordingId}/audio`, headers: { ...h.auth('qa'), range: 'bytes=0-3' } })
  t.equal(audio.statusCode, 206)
  t.equal(audio.rawPayload.toString('latin1'), 'OggS', 'playback serves the Ogg Opus file')

  await t.test('a broken recording is logged with its call and kept', async (t) => {
    const bad = join(dir, 'call-43.wav')
    writeFileSync(bad, 'not audio at all')
    const res = await new Promise<{ recordingId: string } | { error: Error }>((resolve) =>
      pipeline.enqueue({ call: { callId: 'call-43', siteId: 'default', startedAt: clock.now() }, input: bad }, resolve),
    )
    t.ok('error' in res)
    t.ok(existsSync(bad), 'nothing is deleted when processing fails')
    t.ok(logs.includes('recording could not be processed; the original stays on disk'))
  })
})
