/**
 * The demo `npm start` runs on embedded defaults: one predictive campaign on the simulated site (pacing-anchors
 * §4.1 carrier, customers and agents), its agents and synthetic leads stored like real ones, so a newcomer sees the
 * whole engine work (pacing, screening, hopper, ACD, CDRs, metrics, API) without a carrier or a phone.
 */
import type { CampaignSettings } from './store/sql/campaigns.js'
import { defaultCampaignSettings } from './store/sql/campaigns.js'
import type { Repositories } from './store/sql/repositories.js'

export const DEMO_CAMPAIGN_ID = 'demo'
export const DEMO_AGENTS = 10
const DEMO_LEADS = 20_000

/** Demo agents' ids: agent-01 .. agent-10. */
export function demoAgentIds(n = DEMO_AGENTS): string[] {
  return Array.from({ length: n }, (_, i) => `agent-${String(i + 1).padStart(2, '0')}`)
}

export function demoSettings(): CampaignSettings {
  const s = defaultCampaignSettings()
  return {
    ...s,
    dialMode: 'predictive',
    pacing: { ...s.pacing, amd: true },
    // The simulated customers never sleep: the demo dials around the clock so it shows something at any hour.
    // Real campaigns keep the default 09:00-21:00 in each lead's local time.
    screening: { ...s.screening, callingHours: { start: '00:00', end: '24:00', weekdays: [1, 2, 3, 4, 5, 6, 7] } },
  }
}

/** Create the demo campaign, its agents and leads unless they exist. Returns what was created. */
export async function ensureDemo(repos: Repositories): Promise<{ created: boolean; leads: number }> {
  const existing = await repos.campaigns.get(DEMO_CAMPAIGN_ID)
  if (existing) return { created: false, leads: 0 }
  await repos.campaigns.create({ id: DEMO_CAMPAIGN_ID, name: 'Demo: predictive campaign on the simulated site', settings: demoSettings() })
  for (const id of demoAgentIds()) {
    if (!(await repos.agents.get(id))) await repos.agents.create({ id, name: `Demo ${id}` })
  }
  // Synthetic mainland-China mobile numbers in a range no real subscriber has been given (the simulated carrier
  // answers them); Shanghai time.
  let leads = 0
  const batch = 2000
  for (let start = 0; start < DEMO_LEADS; start += batch) {
    const rows = Array.from({ length: batch }, (_, i) => ({
      phone: `+86139${String(start + i).padStart(8, '0')}`,
      timezone: 'Asia/Shanghai',
    }))
    leads += (await repos.leads.insertMany(DEMO_CAMPAIGN_ID, rows)).insertedIds.length
  }
  return { created: true, leads }
}
