/**
 * Loads the Lua scripts of `scripts/` (one file per atomic Redis step) the way BullMQ does: `--@include "x.lua"`
 * lines are replaced by the named fragment (resolved relative to the including file, each fragment once), the KEYS
 * a script touches are read from its header comment (`-- KEYS[n] ...`), and each script is registered on a
 * connection once with ioredis' defineCommand, which sends EVALSHA and falls back to EVAL on NOSCRIPT.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Redis } from 'ioredis'

const SCRIPTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scripts')
const INCLUDE = /^--@include\s+"([^"]+)"\s*$/

export interface LoadedScript {
  /** File name without `.lua`, e.g. `take-lead`. */
  name: string
  /** Number of KEYS declared in the header, passed as numberOfKeys to EVALSHA; undefined when variadic. */
  numberOfKeys: number | undefined
  /** Key descriptions from the header, by position (KEYS[1] first); a variadic tail is the last entry. */
  keys: string[]
  /** Set when the header ends with `KEYS[n...]`: any number of keys from position n on (at least one). */
  variadicFrom?: number
  lua: string
}

function expand(file: string, seen: Set<string>, stack: string[]): string {
  if (stack.includes(file)) throw new Error(`Lua include cycle: ${[...stack, file].join(' -> ')}`)
  const source = readFileSync(file, 'utf8')
  return source
    .split('\n')
    .map((line) => {
      const m = INCLUDE.exec(line.trim())
      if (!m) return line
      const target = resolve(dirname(file), m[1]!)
      // A fragment defines functions; pulling it in twice would only redefine them, so the second is dropped.
      if (seen.has(target)) return `-- (already included: ${m[1]})`
      seen.add(target)
      return expand(target, seen, [...stack, file])
    })
    .join('\n')
}

/**
 * Parse `-- KEYS[n] description` lines of the header (comment lines before the first code line). A last line
 * `-- KEYS[n...] description` declares a variadic tail.
 */
export function parseKeysHeader(lua: string, name = 'script'): { keys: string[]; variadicFrom?: number } {
  const keys: string[] = []
  let variadicFrom: number | undefined
  for (const line of lua.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '') continue
    if (!trimmed.startsWith('--')) break
    const m = /^--\s*KEYS\[(\d+)(\.\.\.)?\]\s*(.*)$/.exec(trimmed)
    if (!m) continue
    const index = Number(m[1])
    if (variadicFrom !== undefined) throw new Error(`${name}.lua: KEYS[${index}] declared after a variadic tail`)
    if (index !== keys.length + 1) throw new Error(`${name}.lua: KEYS[${index}] declared out of order`)
    if (m[2]) variadicFrom = index
    keys.push(m[3] ?? '')
  }
  return variadicFrom === undefined ? { keys } : { keys, variadicFrom }
}

const cache = new Map<string, LoadedScript>()

/** Read and expand `scripts/<name>.lua`. Cached: scripts do not change while the process runs. */
export function loadScript(name: string, dir = SCRIPTS_DIR): LoadedScript {
  const file = join(dir, `${name}.lua`)
  const hit = cache.get(file)
  if (hit) return hit
  const raw = readFileSync(file, 'utf8')
  const { keys, variadicFrom } = parseKeysHeader(raw, name)
  const script: LoadedScript = {
    name,
    numberOfKeys: variadicFrom === undefined ? keys.length : undefined,
    keys,
    lua: expand(file, new Set(), []),
    ...(variadicFrom === undefined ? {} : { variadicFrom }),
  }
  cache.set(file, script)
  return script
}

type ScriptArg = string | number
type ScriptCommand = (...args: ScriptArg[]) => Promise<unknown>

function commandName(name: string): string {
  return 'cadence' + name.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase())
}

/**
 * Runs named scripts on one connection. The first run of a script defines it on the connection (defineCommand);
 * later runs reuse it. Each call checks the number of keys against the header so a wrong call fails loudly here
 * rather than reading the wrong key inside Lua.
 */
export class ScriptRunner {
  private readonly defined = new Set<string>()

  constructor(
    readonly redis: Redis,
    private readonly dir = SCRIPTS_DIR,
  ) {}

  async run(name: string, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    const script = loadScript(name, this.dir)
    if (script.numberOfKeys !== undefined && keys.length !== script.numberOfKeys) {
      throw new Error(`${name}.lua declares ${script.numberOfKeys} keys, called with ${keys.length}`)
    }
    if (script.variadicFrom !== undefined && keys.length < script.variadicFrom) {
      throw new Error(`${name}.lua needs at least ${script.variadicFrom} keys, called with ${keys.length}`)
    }
    const cmd = commandName(name)
    if (!this.defined.has(cmd)) {
      this.redis.defineCommand(
        cmd,
        script.numberOfKeys === undefined ? { lua: script.lua } : { numberOfKeys: script.numberOfKeys, lua: script.lua },
      )
      this.defined.add(cmd)
    }
    const fn = (this.redis as unknown as Record<string, ScriptCommand>)[cmd]
    if (typeof fn !== 'function') throw new Error(`script command ${cmd} was not defined`)
    // Variadic scripts take the key count first, as EVALSHA does.
    if (script.numberOfKeys === undefined) return fn.call(this.redis, keys.length, ...keys, ...args)
    return fn.call(this.redis, ...keys, ...args)
  }
}
