import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ScriptRunner, loadScript, parseKeysHeader } from '../../../engine/store/redis/script-loader.js'
import { redisEnv } from './fixtures/redis-env.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../engine/store/redis/scripts')
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.lua'))
  .map((f) => f.slice(0, -4))

t.test('header parsing', async (t) => {
  t.same(parseKeysHeader('-- what\n-- KEYS[1] a\n-- KEYS[2] b\nlocal x = 1\n-- KEYS[3] not header'), { keys: ['a', 'b'] })
  t.same(parseKeysHeader('-- KEYS[1] a\n-- KEYS[2...] rest\nreturn 1'), { keys: ['a', 'rest'], variadicFrom: 2 })
  t.throws(() => parseKeysHeader('-- KEYS[2] b\nreturn 1'), /out of order/)
  t.throws(() => parseKeysHeader('-- KEYS[1...] a\n-- KEYS[2] b\nreturn 1'), /after a variadic/)
})

t.test('every script expands its includes, declares its keys and compiles on Redis', async (t) => {
  const env = redisEnv('loader')
  t.teardown(env.cleanup)
  const redis = env.connect()
  t.ok(names.length >= 12, `${names.length} scripts`)
  for (const name of names) {
    const s = loadScript(name, dir)
    t.notMatch(s.lua, /^--@include/m, `${name}: includes resolved`)
    t.ok(s.keys.length > 0, `${name}: keys declared`)
    const sha = await redis.script('LOAD', s.lua)
    t.match(String(sha), /^[0-9a-f]{40}$/, `${name}: compiles`)
  }
  const take = loadScript('take-lead', dir)
  t.equal(take.numberOfKeys, 5)
  t.equal((take.lua.match(/local function requeueLead/g) ?? []).length, 1, 'a fragment is pulled in once')
  t.equal(loadScript('pop-call', dir).numberOfKeys, undefined, 'variadic')
})

t.test('the runner refuses a wrong number of keys before reaching Redis', async (t) => {
  const env = redisEnv('loader-run')
  t.teardown(env.cleanup)
  const runner = new ScriptRunner(env.connect(), dir)
  await t.rejects(runner.run('park-lead', ['only-one'], []), /declares 2 keys/)
  await t.rejects(runner.run('dispatch-call', ['a', 'b'], []), /at least 5 keys/)
  t.equal(await runner.run('remove-call', [`${env.prefix}:q`, `${env.prefix}:c`], ['x']), 0, 'runs (EVALSHA, EVAL on NOSCRIPT)')
})
