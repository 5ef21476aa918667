/** `--name value` pairs of a CLI command; anything unknown is refused with its name. */
import { CliError } from './api-client.js'

export function flags<K extends string>(args: readonly string[], known: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {}
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!.replace(/^--/, '') as K
    if (!args[i]!.startsWith('--') || !known.includes(name)) throw new CliError(`unknown option ${args[i]} (known: ${known.map((k) => `--${k}`).join(' ')})`, 2)
    const value = args[i + 1]
    if (value === undefined) throw new CliError(`--${name} needs a value`, 2)
    out[name] = value
  }
  return out
}
