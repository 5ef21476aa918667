import t from 'tap'
import { dialerSettingsOf, MAX_AGENT_WAIT_MS, pacingCapsOf, screeningPolicyOf } from '../../engine/campaign/campaign-policies.js'
import { defaultCampaignSettings } from '../../engine/store/sql/campaigns.js'
import { screen } from '../../engine/screening/screen.js'
import { MemoryDncList } from '../../engine/screening/dnc.js'

t.test('no stored setting stretches the agent wait past the 2-second rule', async (t) => {
  const s = defaultCampaignSettings()
  s.pacing.safeHarborSeconds = 9
  const d = dialerSettingsOf('c', s, { ringTimeoutMs: 25_000, tickMs: 1000, safeHarborPrompt: 'p' })
  t.equal(d.maxAgentWaitMs, MAX_AGENT_WAIT_MS)
  s.pacing.safeHarborSeconds = 1.5
  t.equal(dialerSettingsOf('c', s, { ringTimeoutMs: 25_000, tickMs: 1000, safeHarborPrompt: 'p' }).maxAgentWaitMs, 1500)
})

t.test("a campaign's calling hours and caps reach screening", async (t) => {
  const s = defaultCampaignSettings()
  s.screening.callingHours = { start: '10:00', end: '12:00', weekdays: [1, 2, 3, 4, 5] }
  s.caps.maxAttemptsPer24h = 1
  const policy = screeningPolicyOf(s)
  const lead = { campaignId: 'c', phone: '+8613912345678', timezone: 'Asia/Shanghai', attemptTimes: [] as number[] }
  const ctx = { dnc: new MemoryDncList() }
  // Tuesday 2026-11-24 in Shanghai.
  t.equal(screen(lead, ctx, policy, Date.parse('2026-11-24T02:30:00Z')).ok, true, '10:30 Tuesday is inside')
  t.equal(screen(lead, ctx, policy, Date.parse('2026-11-24T04:30:00Z')).ok, false, '12:30 is outside')
  t.equal(screen(lead, ctx, policy, Date.parse('2026-11-28T02:30:00Z')).ok, false, 'Saturday is not a calling day')
  const called = { ...lead, attemptTimes: [Date.parse('2026-11-23T20:00:00Z')] }
  t.equal(screen(called, ctx, policy, Date.parse('2026-11-24T02:30:00Z')).ok, false, 'the 24 h cap holds')
})

t.test('progressive dialing is one line per agent whatever the stored ratio', async (t) => {
  const s = defaultCampaignSettings()
  s.dialMode = 'progressive'
  s.pacing.maxLinesPerAgent = 3
  t.equal(pacingCapsOf(s, { channels: 100, cps: 10 }).linesPerAgent, 1)
  s.dialMode = 'predictive'
  t.equal(pacingCapsOf(s, { channels: 100, cps: 10 }).linesPerAgent, 3)
  s.caps.callsPerSecond = 4
  t.equal(pacingCapsOf(s, { channels: 100, cps: 10 }).trunkCps, 4, 'the stricter of trunk and campaign CPS')
})
