import t from 'tap'
import { decodedLength, encodeOggOpus } from '../../workers/compress-recording.js'
import { noise } from '../media/signals.js'

t.test('longer Opus frames: the whole recording decodes back, in fewer and larger packets', async (t) => {
  const samples = noise(2010, 3000, 3) // not a whole number of frames: the last one is padded
  const audio = { sampleRate: 8000, channels: 1, samples }
  for (const ms of [20, 40, 60] as const) {
    const file = encodeOggOpus(audio, 16000, 5, ms)
    const back = decodedLength(file)
    t.ok(back.samplesPerChannel >= samples.length && back.samplesPerChannel - samples.length < ms * 8, `${ms} ms: ${back.samplesPerChannel} samples for ${samples.length}`)
  }
  t.throws(() => encodeOggOpus(audio, 16000, 5, 30 as 20), /Opus frame 30 ms/)
})

t.test('the WASM fallback (OPUS_FORCE_WASM=1) writes a file the native decoder reads in full', async (t) => {
  const { execFileSync } = await import('node:child_process')
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'cadence-opus-wasm-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'wasm.opus')
  const script = `import { encodeOggOpus, OPUS_BACKEND } from ${JSON.stringify(new URL('../../workers/compress-recording.ts', import.meta.url).href)}
import { writeFileSync } from 'node:fs'
const s = new Int16Array(2 * 8000 * 3).map((_, i) => Math.round(4000 * Math.sin(i / 7)))
writeFileSync(${JSON.stringify(out)}, encodeOggOpus({ sampleRate: 8000, channels: 2, samples: s }))
process.stdout.write(OPUS_BACKEND)`
  const backend = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, OPUS_FORCE_WASM: '1' }, encoding: 'utf8' })
  t.equal(backend, 'wasm')
  const back = decodedLength(new Uint8Array(readFileSync(out)))
  t.same([back.channels, back.samplesPerChannel], [2, 8000 * 3])
})
