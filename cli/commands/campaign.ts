/** `cadence campaign start|pause|stop|show <campaignId>`: drive a campaign through the API (authorized, audited). */
import { api, apiTarget, CliError, expectOk } from '../api-client.js'

const Actions = ['start', 'pause', 'stop', 'show'] as const

export async function campaignCommand(args: string[]): Promise<number> {
  const [action, id] = args
  if (!Actions.includes(action as (typeof Actions)[number]) || id === undefined) {
    throw new CliError(`usage: cadence campaign ${Actions.join('|')} <campaignId>`, 2)
  }
  const target = apiTarget()
  const path = `/v1/campaigns/${encodeURIComponent(id)}`
  const c = await expectOk<{ id: string; name: string; state: string }>(
    action === 'show' ? await api(target, 'GET', path) : await api(target, 'POST', `${path}/${action}`),
  )
  process.stdout.write(`${c.id} ${JSON.stringify(c.name)}: ${c.state}\n`)
  return 0
}
