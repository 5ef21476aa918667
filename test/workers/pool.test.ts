import t from 'tap'
import { mkdtempSync, existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MediaWorkerPool, QueueFullError } from '../../workers/pool.js'
import { pcmWav } from '../../workers/wav.js'
import { decodedLength } from '../../workers/compress-recording.js'
import { concat, noise, tone } from '../media/signals.js'

const dir = mkdtempSync(join(tmpdir(), 'cadence-pool-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function stereoCall(seconds: number): Uint8Array {
  const a = concat(tone([440], seconds * 500), noise(seconds * 500, 3000, 1))
  const b = concat(noise(seconds * 500, 3000, 2), tone([660], seconds * 500))
  const s = new Int16Array(a.length * 2)
  for (let i = 0; i < a.length; i++) {
    s[2 * i] = a[i]!
    s[2 * i + 1] = b[i]!
  }
  return pcmWav({ sampleRate: 8000, channels: 2, samples: s })
}

// Starting a thread loads the TypeScript toolchain into it (seconds): the first two tests share one pool.
const pool = new MediaWorkerPool({ threads: 1, maxQueue: 4 })
t.teardown(() => pool.close())

t.test('compresses on a worker thread and deletes the original only after verifying', async (t) => {
  const input = join(dir, 'call1.wav')
  writeFileSync(input, stereoCall(3))
  const r = await pool.submit('compressRecording', { input, output: join(dir, 'call1.opus'), deleteOriginal: true })
  t.equal(r.durationMs, 3000)
  t.equal(r.channels, 2)
  t.ok(r.bytes < r.inputBytes / 10, `${r.bytes} bytes from ${r.inputBytes}`)
  t.equal(r.originalDeleted, true)
  t.notOk(existsSync(input))
  const back = decodedLength(new Uint8Array(readFileSync(r.output)))
  t.equal(back.samplesPerChannel, 24000)
})

t.test('a broken recording is refused with a reason and the original stays', async (t) => {
  const input = join(dir, 'broken.wav')
  writeFileSync(input, Buffer.from('RIFF\0\0\0\0WAVEjunk'))
  await t.rejects(pool.submit('compressRecording', { input, output: join(dir, 'broken.opus'), deleteOriginal: true }), /broken\.wav: WAV: no data chunk/)
  t.ok(existsSync(input))
  t.notOk(existsSync(join(dir, 'broken.opus')))
  t.notOk(existsSync(join(dir, 'broken.opus.partial')))
})

t.test('spot-keywords runs on the pool too, and names the file it could not read', async (t) => {
  await t.rejects(pool.submit('spotKeywords', { recording: join(dir, 'nope.wav'), examples: [] }), /spot-keywords .*nope\.wav/)
})

t.test('the queue is bounded: past it, submissions fail at once instead of piling up', async (t) => {
  const small = new MediaWorkerPool({ threads: 1, maxQueue: 2 })
  t.teardown(() => small.close())
  const jobs = Array.from({ length: 6 }, (_, i) => {
    const input = join(dir, `q${i}.wav`)
    writeFileSync(input, stereoCall(2))
    return small.submit('compressRecording', { input, output: join(dir, `q${i}.opus`) })
  })
  const settled = await Promise.allSettled(jobs)
  const refused = settled.filter((s) => s.status === 'rejected')
  t.ok(refused.length >= 1, `${refused.length} refused`)
  t.ok(refused.every((s) => s.status === 'rejected' && s.reason instanceof QueueFullError))
  t.ok(settled.filter((s) => s.status === 'fulfilled').length >= 2, 'the queued ones still ran')
})
