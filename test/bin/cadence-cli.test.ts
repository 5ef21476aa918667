import t from 'tap'
import { spawnSync } from 'node:child_process'

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/cadence.js', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' })

t.test('a bad configuration value stops start-up with the key and the expected form', async (t) => {
  const res = run(['start'], { CADENCE_API_PORT: 'abc', CADENCE_SIM_SPEED: '0' })
  t.equal(res.status, 2)
  t.match(res.stderr, /CADENCE_API_PORT: expected an integer 0-65535/)
  t.match(res.stderr, /CADENCE_SIM_SPEED: expected a number greater than 0/)
  t.notMatch(res.stdout, /listening/)
})

t.test('the CLI lists its commands and refuses unknown ones', async (t) => {
  const help = run(['--help'])
  t.equal(help.status, 0)
  t.match(help.stderr, /start/)
  t.match(help.stderr, /migrate/)
  t.equal(run(['frobnicate']).status, 2)
})
