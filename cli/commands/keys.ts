/**
 * `cadence keys create --name n --role r [--site s] [--agent a]`: an API key made straight in the database (the first
 * key of a fresh install has no API to ask). Needs the database the engine uses (DATABASE_URL or embedded PGlite);
 * the key is printed once on stdout and stored hashed; the audit log names the CLI.
 */
import { loadConfig } from '../../config/config.js'
import { UserRoles, type UserRole } from '../../engine/store/sql/api-keys.js'
import { openMigratedDb } from '../../engine/store/sql/open.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { CliError } from '../api-client.js'
import { flags } from '../flags.js'

export async function keysCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args
  if (action !== 'create') throw new CliError('usage: cadence keys create --name n --role admin|supervisor|qa|agent [--site s] [--agent id]', 2)
  const f = flags(rest, ['name', 'role', 'site', 'agent'])
  if (!f.name || !f.role) throw new CliError('--name and --role are required', 2)
  if (!UserRoles.includes(f.role as UserRole)) throw new CliError(`--role must be one of ${UserRoles.join(', ')}`, 2)
  const role = f.role as UserRole
  if (role !== 'admin' && f.site === undefined) f.site = 'default'
  if (role === 'agent' && f.agent === undefined) throw new CliError('an agent key needs --agent <agentId>', 2)
  const { db } = await openMigratedDb(loadConfig().database)
  try {
    const repos = repositories(db)
    if (f.site !== undefined && !(await repos.sites.get(f.site))) throw new CliError(`site ${f.site} does not exist`, 2)
    if (f.agent !== undefined) {
      const agent = await repos.agents.get(f.agent)
      if (!agent || (f.site !== undefined && agent.siteId !== f.site)) throw new CliError(`agent ${f.agent} does not exist in site ${f.site}`, 2)
    }
    const { key, apiKey } = await repos.apiKeys.create({ name: f.name, role, siteId: f.site ?? null, agentId: f.agent ?? null })
    await repos.audit.append({ actor: 'cli', action: 'create', entity: 'api-key', entityId: apiKey.id, detail: { role, siteId: apiKey.siteId } })
    process.stderr.write(`API key ${apiKey.id} (${role}, site ${apiKey.siteId ?? 'all'}); shown once:\n`)
    process.stdout.write(`${key}\n`)
    return 0
  } finally {
    await db.close()
  }
}
