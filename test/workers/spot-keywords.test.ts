import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { locateSherpaKwsModel, SherpaKeywordSpotter, sherpaOnnxLoads } from '../../workers/sherpa-kws.js'
import spotKeywords from '../../workers/spot-keywords.js'
import { pcmWav } from '../../workers/wav.js'
import { concat, mix, noise, silence } from '../media/signals.js'
import { say } from './speech.js'

const dir = mkdtempSync(join(tmpdir(), 'cadence-kw-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const V = 'cmn-latn-pinyin'

function wav(name: string, pcm: Int16Array, channels = 1): string {
  const file = join(dir, name)
  writeFileSync(file, pcmWav({ sampleRate: 8000, channels, samples: pcm }))
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

// Keywords enrolled as recommended: said alone by several voices, slow and low, fast and high (as bench:workers,
// where the default threshold was tuned); the call has them inside sentences.
const examples = ['+m1', '+m2', '+m4', '+m6', '+f1', '+f2', '+f5'].flatMap((v) =>
  (
    [
      [140, 40],
      [175, 60],
    ] as const
  ).flatMap(([speed, pitch]) => [
    { keyword: '退款', file: wav(`refund${v}-${speed}.wav`, concat(silence(200), say(V + v, 'tui4 kuan3', speed, pitch), silence(200))) },
    { keyword: '投诉', file: wav(`complaint${v}-${speed}.wav`, concat(silence(200), say(V + v, 'tou2 su4', speed, pitch), silence(200))) },
  ]),
)

t.test('finds a keyword inside a sentence, on the right party, and reports a required phrase missing', async (t) => {
  const customer = concat(silence(1500), say(`${V}+m1`, 'wo3 xiang3 shen1 qing3 tui4 kuan3, xie4 xie4'), silence(500))
  const agent = concat(silence(200), say(`${V}+f2`, 'ni3 hao3, qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2'), silence(2000))
  const n = Math.max(customer.length, agent.length)
  const call = stereo(mix(agent, noise(n / 8, 80, 1)), mix(customer, noise(n / 8, 80, 2)))
  const r = await spotKeywords({ recording: wav('call.wav', call, 2), examples, required: ['退款', '投诉'] })
  t.same(
    r.hits.map((h) => [h.keyword, h.party]),
    [['退款', 'customer']],
  )
  t.ok(r.hits[0]!.atMs >= 1500 && r.hits[0]!.atMs < 1500 + 3000, `hit at ${r.hits[0]!.atMs} ms`)
  t.same(r.required, [
    { keyword: '退款', present: true },
    { keyword: '投诉', present: false },
  ])
})

t.test('a sentence without keywords gives no hit', async (t) => {
  const pcm = concat(silence(300), say(`${V}+m1`, 'zhe4 ge4 chan3 pin3 de5 jia4 ge2 shi4 duo1 shao3'), silence(300))
  const r = await spotKeywords({ recording: wav('plain.wav', pcm), examples })
  t.same(r.hits, [])
})

t.test('bad input is refused with the file named', async (t) => {
  await t.rejects(spotKeywords({ recording: join(dir, 'missing.wav'), examples }), /missing\.wav/)
  const bad = join(dir, 'bad.wav')
  writeFileSync(bad, 'not audio')
  await t.rejects(spotKeywords({ recording: bad, examples }), /bad\.wav: not a WAV file/)
})

t.test('the neural spotter (sherpa-onnx) names a missing model directory and missing model files', async (t) => {
  const modelDir = join(dir, 'no-such-model')
  t.throws(() => SherpaKeywordSpotter.open({ modelDir }), new RegExp(`model directory ${modelDir} does not exist`))
  await t.rejects(spotKeywords({ recording: join(dir, 'plain.wav'), examples: [], neural: { modelDir } }), /plain\.wav: sherpa-onnx KWS model directory .* does not exist/)
  const partial = join(dir, 'partial-model')
  mkdirSync(partial)
  // Shaped like ONNX files (ir_version tag first), which is all the adapter checks before the native addon.
  const onnxLike = Buffer.concat([Buffer.from([0x08, 0x07]), Buffer.alloc(100)])
  writeFileSync(join(partial, 'encoder-epoch-12-avg-2-chunk-16-left-64.int8.onnx'), onnxLike)
  writeFileSync(join(partial, 'tokens.txt'), '<blk> 0\nt 1\nóu 2\ns 3\nù 4\nt̀ 5\n')
  t.throws(() => locateSherpaKwsModel({ modelDir: partial }), /lacks decoder\*\.onnx, joiner\*\.onnx, keywords\.txt/)
  writeFileSync(join(partial, 'encoder-epoch-12-avg-2-chunk-16-left-64.onnx'), onnxLike)
  writeFileSync(join(partial, 'decoder-epoch-12-avg-2-chunk-16-left-64.onnx'), onnxLike)
  writeFileSync(join(partial, 'joiner-epoch-12-avg-2-chunk-16-left-64.onnx'), onnxLike)
  writeFileSync(join(partial, 'keywords.txt'), 't óu s ù @投诉 :1.5 #0.3\n')
  t.match(locateSherpaKwsModel({ modelDir: partial }), { encoder: join(partial, 'encoder-epoch-12-avg-2-chunk-16-left-64.onnx'), keywordsFile: join(partial, 'keywords.txt') }, 'full precision preferred over int8')
})

t.test('the neural spotter refuses what would abort the process or never fire, before loading the model', async (t) => {
  const model = join(dir, 'model-checks')
  mkdirSync(model)
  const onnxLike = Buffer.concat([Buffer.from([0x08, 0x07]), Buffer.alloc(100)])
  for (const f of ['encoder.onnx', 'decoder.onnx', 'joiner.onnx']) writeFileSync(join(model, f), onnxLike)
  writeFileSync(join(model, 'tokens.txt'), '<blk> 0\nt 1\nóu 2\ns 3\nù 4\n')
  writeFileSync(join(model, 'keywords.txt'), 't óu s ù @投诉\n')
  t.ok(locateSherpaKwsModel({ modelDir: model }), 'a complete directory passes')

  // A damaged model file: onnxruntime would abort the whole process on it (checked once in a child process while
  // writing this adapter), so it must never reach the addon.
  writeFileSync(join(model, 'joiner.onnx'), 'Not Found\n')
  t.throws(() => SherpaKeywordSpotter.open({ modelDir: model }), new RegExp(`${join(model, 'joiner.onnx')} is not an ONNX model \\(10 bytes\\)`))
  writeFileSync(join(model, 'joiner.onnx'), onnxLike)

  writeFileSync(join(model, 'keywords.txt'), 't óu s ù @投诉\ntui4 kuan3 @退款\n\n')
  t.throws(() => locateSherpaKwsModel({ modelDir: model }), /line 2 has tokens the model does not know: tui4 kuan3 \(make lines with sherpa-onnx-cli text2token\)/)
  writeFileSync(join(model, 'keywords.txt'), '\n')
  t.throws(() => locateSherpaKwsModel({ modelDir: model }), /keywords\.txt: no keywords/)
  writeFileSync(join(model, 'keywords.txt'), 't óu s ù @投诉\n')

  t.throws(() => locateSherpaKwsModel({ modelDir: model, numThreads: 0, keywordsThreshold: 1.5 }), /bad numThreads 0 \(a positive integer\), keywordsThreshold 1\.5 \(between 0 and 1\)/)
  t.throws(() => locateSherpaKwsModel({ modelDir: model, keywordsScore: -1 }), /keywordsScore -1 \(positive\)/)
  t.throws(() => locateSherpaKwsModel({ modelDir: model, keywordsFile: join(model, 'other.txt') }), /lacks .*other\.txt/)
})

t.test('sherpa-onnx-node, the optional dependency, loads here with its native addon', async (t) => {
  t.equal(sherpaOnnxLoads(), true)
})
