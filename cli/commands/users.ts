/**
 * `cadence users create --email e --name n --role r [--site s] [--agent a]`: the password is read from stdin (never a
 * command-line argument, which other users of the machine can see in the process list).
 */
import { api, apiTarget, CliError, expectOk } from '../api-client.js'
import { flags } from '../flags.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

export async function usersCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args
  if (action !== 'create') throw new CliError('usage: cadence users create --email e --name n --role admin|supervisor|qa|agent [--site s] [--agent id] < password', 2)
  const f = flags(rest, ['email', 'name', 'role', 'site', 'agent'])
  if (!f.email || !f.name || !f.role) throw new CliError('--email, --name and --role are required', 2)
  const password = await readStdin()
  if (password === '') throw new CliError('give the password on stdin', 2)
  const user = await expectOk<{ id: string; email: string; role: string; siteId: string | null }>(
    await api(apiTarget(), 'POST', '/v1/users', {
      body: { email: f.email, name: f.name, role: f.role, password, ...(f.site ? { siteId: f.site } : {}), ...(f.agent ? { agentId: f.agent } : {}) },
    }),
  )
  process.stdout.write(`user ${user.id} ${user.email} (${user.role}, site ${user.siteId ?? 'all'})\n`)
  return 0
}
