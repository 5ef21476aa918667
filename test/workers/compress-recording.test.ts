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
