/**
 * A campaign's own AMD thresholds (issue 3: thresholds per campaign): stored and returned with its settings, checked
 * together over the defaults as the engine will use them, and handed by the dialer to the telephony port per call.
 */
import t from 'tap'
import { dialerSettingsOf } from '../../engine/campaign/campaign-policies.js'
import { defaultCampaignSettings } from '../../engine/store/sql/campaigns.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h

  const created = await app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: auth('supervisor'),
    payload: { name: 'slow greeters', settings: { pacing: { amd: true, amdThresholds: { maxHumanGreetingMs: 2600, afterGreetingSilenceMs: 1000 } } } },
  })
  t.equal(created.statusCode, 201, created.body)
  const id = created.json<{ id: string }>().id
  const read = (await app.inject({ method: 'GET', url: `/v1/campaigns/${id}`, headers: auth('supervisor') })).json<{ settings: { pacing: Record<string, unknown> } }>()
  t.strictSame(read.settings.pacing['amdThresholds'], { maxHumanGreetingMs: 2600, afterGreetingSilenceMs: 1000 }, 'stored and returned')

  const none = (await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('supervisor'), payload: { name: 'defaults' } })).json<{ settings: { pacing: Record<string, unknown> } }>()
  t.notOk('amdThresholds' in none.settings.pacing, 'absent unless given: the tuned defaults apply')

  const crossed = problem(t, await app.inject({
    method: 'PATCH',
    url: `/v1/campaigns/${id}`,
    headers: auth('supervisor'),
    payload: { settings: { pacing: { amd: true, amdThresholds: { afterGreetingSilenceMs: 7000 } } } },
  }), 400)
  t.match(JSON.stringify(crossed), /body\.settings\.pacing\.amdThresholds/, 'the field is named')
  t.match(JSON.stringify(crossed), /afterGreetingSilenceMs must be below totalAnalysisMs/, 'with why, over the default analysis time')
  problem(t, await app.inject({
    method: 'PATCH', url: `/v1/campaigns/${id}`, headers: auth('supervisor'), payload: { settings: { pacing: { amdThresholds: { beepHz: 1000 } } } },
  }), 400)
  problem(t, await app.inject({
    method: 'PATCH', url: `/v1/campaigns/${id}`, headers: auth('supervisor'), payload: { settings: { pacing: { amdThresholds: { minSpeechMs: 0 } } } },
  }), 400)
  const after = (await app.inject({ method: 'GET', url: `/v1/campaigns/${id}`, headers: auth('supervisor') })).json<{ settings: { pacing: Record<string, unknown> } }>()
  t.strictSame(after.settings.pacing['amdThresholds'], { maxHumanGreetingMs: 2600, afterGreetingSilenceMs: 1000 }, 'refused changes left them as they were')
})

t.test('the dialer hands a campaign\'s thresholds to the port with each call', async (t) => {
  const s = defaultCampaignSettings()
  s.pacing.amd = true
  s.pacing.amdThresholds = { maxHumanGreetingMs: 2600 }
  t.strictSame(dialerSettingsOf('c', s, { ringTimeoutMs: 25_000, tickMs: 1000, safeHarborPrompt: 'p' }).amdThresholds, { maxHumanGreetingMs: 2600 })
  t.equal(dialerSettingsOf('c', defaultCampaignSettings(), { ringTimeoutMs: 25_000, tickMs: 1000, safeHarborPrompt: 'p' }).amdThresholds, undefined)
})
