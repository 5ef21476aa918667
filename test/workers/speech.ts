/** espeak-ng speech at 8 kHz for the worker tests (deterministic: same voice, text, speed and pitch, same samples). */
import { execSync } from 'node:child_process'

export function say(voice: string, text: string, speed = 160, pitch = 50): Int16Array {
  const raw = execSync(
    `espeak-ng -v ${voice} -s ${speed} -p ${pitch} --stdout ${JSON.stringify(text)} | sox -R -t wav - -r 8000 -c 1 -b 16 -e signed -t raw - sinc 300-3400`,
  )
  return new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2).slice()
}
