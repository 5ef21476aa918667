/**
 * The CLI as platform teams run it, as a child process against a real API and PostgreSQL: the first API key made in
 * the database, a CSV import with bad rows reported by line, an export, campaign control, a user created with the
 * password on stdin, and clear refusals.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPgTestDb } from '../store/sql/databases.js'
import { harness } from '../api/harness.js'

function cli(args: string[], env: Record<string, string>, stdin = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/cadence.js', ...args], { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    p.on('close', (status) => resolve({ status, stdout, stderr }))
    p.stdin.end(stdin)
  })
}

t.test('cadence import, export, campaign, users and keys', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const h = await harness(test.db)
  const base = await h.app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => h.app.close())
  const dir = mkdtempSync(join(tmpdir(), 'cadence-cli-'))

  const made = await cli(['keys', 'create', '--name', 'ops', '--role', 'supervisor'], { DATABASE_URL: test.url })
  t.equal(made.status, 0, made.stderr)
  const key = made.stdout.trim()
  t.match(key, /^cad_/)
  t.match(made.stderr, /shown once/)
  const env = { CADENCE_API_URL: base, CADENCE_API_KEY: key }

  const campaign = await h.app.inject({ method: 'POST', url: '/v1/campaigns', headers: { authorization: `Bearer ${key}` }, payload: { name: 'CLI renewals' } })
  const campaignId = campaign.json<{ id: string }>().id
  const list = await h.app.inject({ method: 'POST', url: `/v1/campaigns/${campaignId}/lead-lists`, headers: { authorization: `Bearer ${key}` }, payload: { name: 'November', region: 'CN' } })
  t.equal(list.statusCode, 201, list.body)
  const listId = list.json<{ id: string }>().id

  await t.test('import: good rows land, bad rows are reported by line', async (t) => {
    const file = join(dir, 'leads.csv')
    writeFileSync(file, 'phone,timezone\n13800138000,Asia/Shanghai\nnot-a-number,\n13900139000,\n13800138000,\n')
    const r = await cli(['import', listId, file], env)
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /4 rows read, 2 leads added, 1 duplicates, 1 bad rows/)
    t.match(r.stdout, /line 3: phone/)
    t.match(r.stderr, /uploading .*100\.0%/)
  })

  await t.test('export writes the list to a file', async (t) => {
    const out = join(dir, 'out.csv')
    const r = await cli(['export', listId, '--out', out], env)
    t.equal(r.status, 0, r.stderr)
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    t.equal(lines.length, 3, 'a header and two leads')
    t.match(lines[1], /\+8613800138000/)
  })

  await t.test('campaign control and users through the API', async (t) => {
    const r = await cli(['campaign', 'show', campaignId], env)
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /"CLI renewals": stopped/)
    // A supervisor may not create users: the API's refusal comes back in words, with a failing exit code.
    const u = await cli(['users', 'create', '--email', 'li@example.cn', '--name', 'Li', '--role', 'qa'], env, 'a long password\n')
    t.equal(u.status, 1)
    t.match(u.stderr, /403 Forbidden/)
    const admin = await cli(['users', 'create', '--email', 'li@example.cn', '--name', 'Li', '--role', 'qa', '--site', 'default'], { ...env, CADENCE_API_KEY: h.keys.admin }, 'a long password\n')
    t.equal(admin.status, 0, admin.stderr)
    const login = await h.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'li@example.cn', password: 'a long password' } })
    t.equal(login.statusCode, 200, 'the password came through stdin intact')
  })

  await t.test('refusals: no key, unknown option, API down', async (t) => {
    const noKey = await cli(['campaign', 'show', campaignId], { CADENCE_API_URL: base, CADENCE_API_KEY: '' })
    t.equal(noKey.status, 2)
    t.match(noKey.stderr, /set CADENCE_API_KEY/)
    const bad = await cli(['keys', 'create', '--name', 'x', '--role', 'wizard'], { DATABASE_URL: test.url })
    t.equal(bad.status, 2)
    t.match(bad.stderr, /--role must be one of/)
    const down = await cli(['campaign', 'show', campaignId], { CADENCE_API_URL: 'http://127.0.0.1:9', CADENCE_API_KEY: key })
    t.equal(down.status, 1)
    t.match(down.stderr, /cannot reach the API/)
  })
})
