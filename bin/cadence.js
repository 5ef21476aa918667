#!/usr/bin/env node
// `npx cadence <command>`: the entry points platform teams script. Each command runs a TypeScript module through
// tsx (a dependency), so no build step is needed.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const commands = {
  start: ['engine/main.ts', 'run the engine and/or the API (CADENCE_ROLE), with the demo on embedded defaults'],
  migrate: ['engine/store/sql/migrate.ts', 'apply the database migrations (DATABASE_URL or embedded PGlite)'],
  import: ['cli/main.ts', 'import <listId> <file.csv|xlsx> [--region CN]: upload leads with a progress bar (API)'],
  export: ['cli/main.ts', 'export <listId> [--out file.csv]: download a lead list (API)'],
  campaign: ['cli/main.ts', 'campaign start|pause|stop|show <campaignId> (API)'],
  users: ['cli/main.ts', 'users create --email --name --role [--site] [--agent] < password (API)'],
  keys: ['cli/main.ts', 'keys create --name --role [--site] [--agent]: an API key, straight in the database'],
  pii: ['cli/main.ts', 'pii reencrypt|check: re-encrypt personal data under the current key (key rotation)'],
}
// Commands run through the API read CADENCE_API_URL (default http://127.0.0.1:3000) and CADENCE_API_KEY.

const [name, ...args] = process.argv.slice(2)
const command = name ? commands[name] : undefined
if (!command) {
  process.stderr.write('usage: cadence <command>\n\ncommands:\n')
  for (const [n, [, help]] of Object.entries(commands)) process.stderr.write(`  ${n.padEnd(8)} ${help}\n`)
  process.exit(name === undefined || name === 'help' || name === '--help' ? 0 : 2)
}
const forwarded = command[0] === 'cli/main.ts' ? [name, ...args] : args
const res = spawnSync(process.execPath, ['--import', 'tsx', join(root, command[0]), ...forwarded], { stdio: 'inherit' })
process.exit(res.status ?? 1)
