/**
 * bench:workers: keyword-spotting precision/recall, and recording compression speed and size, our in-process encoder
 * (libopus through @evan/opus: its prebuilt native addon, or WASM with SIMD under OPUS_FORCE_WASM=1, into our Ogg writer)
 * beside ffmpeg's native libopus at the same bitrate, complexity and frame length, in the same run, on the same
 * 60 s stereo call assembled from the media corpus. Prints a table; with --json only JSON.
 *
 *   npm run bench:workers [-- --json] [-- --bitrate 16000] [-- --seconds 60] [-- --complexity 5] [-- --frame-ms 20|40|60]
 *                         [-- --runs 3] [-- --skip-keywords] [-- --kws-calibrated]
 *
 * ×realtime per core = audio seconds / CPU seconds of one single-threaded encode (ffmpeg runs with -threads 1;
 * its CPU time is the child's user+system time from /proc-less `time` accounting, so wall time is reported too).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeOggOpus, decodedLength, OPUS_BACKEND, type OpusFrameMs } from '../../workers/compress-recording.js'
import { keywordScores } from './keywords.js'
import { KEYWORD_HOP_MS } from '../../workers/spot-keywords.js'
import { pcmWav, type PcmAudio } from '../../workers/wav.js'
import { loadCorpus, readCorpusAudio } from '../../test/fixtures/corpus.js'

const args = process.argv.slice(2)
const json = args.includes('--json')
const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt)
const bitrate = opt('--bitrate', 16000)
const seconds = opt('--seconds', 60)
const complexity = opt('--complexity', 5)
const frameMs = opt('--frame-ms', 20) as OpusFrameMs
const runs = opt('--runs', 3)
const skipKeywords = args.includes('--skip-keywords')

function callAudio(): PcmAudio {
  const items = loadCorpus().filter((i) => i.label === 'human' || i.label === 'machine')
  const n = seconds * 8000
  const left = new Int16Array(n)
  const right = new Int16Array(n)
  for (const [ch, offset] of [
    [left, 0],
    [right, 7],
  ] as const) {
    let o = 0
    for (let k = offset; o < n; k++) {
      const pcm = readCorpusAudio(items[k % items.length]!)
      ch.set(pcm.subarray(0, Math.min(pcm.length, n - o)), o)
      o += pcm.length
    }
  }
  const samples = new Int16Array(2 * n)
  for (let i = 0; i < n; i++) {
    samples[2 * i] = left[i]!
    samples[2 * i + 1] = right[i]!
  }
  return { sampleRate: 8000, channels: 2, samples }
}

interface Row {
  encoder: string
  audioSeconds: number
  cpuSeconds: number
  wallSeconds: number
  xRealtimePerCore: number
  bytes: number
  kbitPerSecond: number
  sizeRatio: number
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-bench-workers-'))
  try {
    const audio = callAudio()
    const wav = join(dir, 'call.wav')
    const wavBytes = pcmWav(audio)
    writeFileSync(wav, wavBytes)
    const rows: Row[] = []
    const row = (encoder: string, cpu: number, wall: number, bytes: number): Row => ({
      encoder,
      audioSeconds: seconds,
      cpuSeconds: cpu,
      wallSeconds: wall,
      xRealtimePerCore: seconds / cpu,
      bytes,
      kbitPerSecond: (bytes * 8) / seconds / 1000,
      sizeRatio: wavBytes.length / bytes,
    })

    // A worker thread lives for many recordings, so the steady state is what capacity depends on; the first encode
    // in a fresh thread (WASM not yet optimised by V8's second tier) is reported on its own row.
    const encode = () => {
      const c0 = process.cpuUsage()
      const w0 = performance.now()
      const out = encodeOggOpus(audio, bitrate, complexity, frameMs)
      const cpu = process.cpuUsage(c0)
      return { out, cpu: (cpu.user + cpu.system) / 1e6, wall: (performance.now() - w0) / 1000 }
    }
    const median = <T extends { cpu: number }>(xs: T[]): T => [...xs].sort((a, b) => a.cpu - b.cpu)[Math.floor(xs.length / 2)]!
    const cold = encode()
    const ours = median(Array.from({ length: runs }, encode))
    writeFileSync(join(dir, 'ours.opus'), ours.out)
    const check = decodedLength(ours.out)
    if (check.samplesPerChannel < seconds * 8000) throw new Error('our file decodes short')
    rows.push(row(`cadence (@evan/opus ${OPUS_BACKEND} libopus), median of ${runs}`, ours.cpu, ours.wall, ours.out.length))
    rows.push(row('cadence, first encode in a fresh thread', cold.cpu, cold.wall, cold.out.length))

    const ff = join(dir, 'ffmpeg.opus')
    // `bash -c "time ..."` gives the child's CPU time (user + sys) without /usr/bin/time.
    const ffmpeg = (input = wav) => {
      const t = spawnSync(
        'bash',
        ['-c', `TIMEFORMAT='%U %S %R'; time ffmpeg -nostdin -loglevel error -y -threads 1 -i ${input} -c:a libopus -b:a ${bitrate} -compression_level ${complexity} -frame_duration ${frameMs} -application voip ${ff}`],
        { encoding: 'utf8' },
      )
      if (t.status !== 0) throw new Error(`ffmpeg failed: ${t.stderr}`)
      const [u, s, r] = t.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number]
      return { cpu: u + s, wall: r }
    }
    const ffr = median(Array.from({ length: runs }, ffmpeg))
    const size = statSync(ff).size
    rows.push(row(`ffmpeg libopus (native, baseline), median of ${runs}`, ffr.cpu, ffr.wall, size))
    // ffmpeg's time includes starting the process (loading its libraries); an encode of 0.1 s measures that, and the
    // difference is its encoding alone (a long-running ffmpeg would approach it).
    const tiny = join(dir, 'tiny.wav')
    writeFileSync(tiny, pcmWav({ ...audio, samples: audio.samples.subarray(0, 1600) }))
    const start = median(Array.from({ length: runs }, () => ffmpeg(tiny)))
    ffmpeg() // leave the 60 s file in place for the decode check below
    rows.push(row('ffmpeg libopus, encoding alone (minus a 0.1 s run)', Math.max(1e-3, ffr.cpu - start.cpu), ffr.wall - start.wall, size))
    const ffDecoded = decodedLength(new Uint8Array(readFileSync(ff)))

    const keywords = skipKeywords ? undefined : keywordScores(undefined, args.includes('--kws-calibrated') ? 'calibrated' : 'single')
    const result = { keywords, bitrate, complexity, frameMs, seconds, rows, ffmpegDecodedSamplesPerChannel: ffDecoded.samplesPerChannel, ffmpegVersion: execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0] }
    if (json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n')
      return
    }
    console.log(`Recording compression: ${seconds} s stereo call, 8 kHz, Opus at ${bitrate / 1000} kbit/s, complexity ${complexity}, ${frameMs} ms frames (both encoders)\n`)
    console.table(
      rows.map((x) => ({
        encoder: x.encoder,
        '×realtime per core': x.xRealtimePerCore.toFixed(0),
        'cpu s': x.cpuSeconds.toFixed(3),
        'wall s': x.wallSeconds.toFixed(3),
        bytes: x.bytes,
        'kbit/s': x.kbitPerSecond.toFixed(1),
        'size ratio vs WAV': x.sizeRatio.toFixed(1),
      })),
    )
    if (!keywords) return
    const th = Object.entries(keywords.tuning.thresholds).map(([k, v]) => `${k} ${v}`).join(', ')
    console.log(`\nKeyword spotting (enrolled examples + DTW, ${KEYWORD_HOP_MS} ms hop, mean of the best ${keywords.topK}): examples per keyword ${JSON.stringify(keywords.templatesPerKeyword)}`)
    console.log(`thresholds (${keywords.tuning.mode}, ratio ${keywords.tuning.ratio}, best F1 on the tune voices): ${th}\n`)
    console.table(keywords.rows)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main()
