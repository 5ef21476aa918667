/**
 * `cadence <command>` for what platform teams script: import and export lead lists, drive campaigns, create users
 * (through the API, authorized and audited) and API keys (straight in the database, for the first one).
 */
import { CliError } from './api-client.js'
import { campaignCommand } from './commands/campaign.js'
import { exportCommand } from './commands/export.js'
import { importCommand } from './commands/import.js'
import { keysCommand } from './commands/keys.js'
import { usersCommand } from './commands/users.js'
import { piiCommand } from './commands/pii.js'

const commands: Record<string, (args: string[]) => Promise<number>> = {
  import: importCommand,
  export: exportCommand,
  campaign: campaignCommand,
  users: usersCommand,
  keys: keysCommand,
  pii: piiCommand,
}

const [name, ...args] = process.argv.slice(2)
const run = name === undefined ? undefined : commands[name]
if (!run) {
  process.stderr.write(`unknown command ${name ?? ''}\n`)
  process.exit(2)
}
try {
  process.exitCode = await run(args)
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`cadence ${name}: ${err.message}\n`)
    process.exitCode = err.exitCode
  } else throw err
}
