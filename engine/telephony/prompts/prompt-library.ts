/**
 * Prompts by name (`safe-harbor`, `hold-music`, an IVR's menus): `<dir>/<name>.wav`, 8 kHz mono WAV. The media server
 * reads the file itself (rtpengine's `play media` takes a path), so the directory must be readable by rtpengine at the
 * same path: the same host, or the same volume mounted at the same place (docker-compose.yml does this).
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The prompts shipped with Cadence (make-prompts.sh rebuilds them). */
export const SHIPPED_PROMPTS_DIR = fileURLToPath(new URL('.', import.meta.url))

/** The names a campaign or an IVR may use: no path separators, no dot-dot, nothing a shell or rtpengine would parse. */
const PROMPT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

export class UnknownPrompt extends Error {
  override name = 'UnknownPrompt'
}

export class PromptLibrary {
  constructor(readonly dir: string = SHIPPED_PROMPTS_DIR) {}

  /** The file to play for `name`; UnknownPrompt when the name is malformed or no such file is there. */
  resolve(name: string): string {
    if (!PROMPT_NAME.test(name)) throw new UnknownPrompt(`prompt name ${JSON.stringify(name)} is not a plain name (letters, digits, - and _)`)
    const file = join(this.dir, `${name}.wav`)
    let isFile = false
    try {
      isFile = statSync(file).isFile()
    } catch {
      isFile = false
    }
    if (!isFile) throw new UnknownPrompt(`no prompt ${name}: ${file} does not exist`)
    return file
  }
}
