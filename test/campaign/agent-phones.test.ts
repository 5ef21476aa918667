/**
 * With phone sessions (SIP), an agent is routable only while their phone is up: logging in ready with the phone not
 * up leaves them paused 'phone-down' (a customer put through to them could not be bridged and would be abandoned),
 * asking to be ready without a phone is refused, and logout closes the session. Real Redis ACD, the engine's desk.
 */
import t from 'tap'
import pino from 'pino'
import { Registry } from 'prom-client'
import { VirtualClock } from '../../engine/clock.js'
import type { AgentPhones } from '../../engine/campaign/agent-desk.js'
import { AgentDeskRefused } from '../../engine/campaign/agent-desk.js'
import { createEngineMetrics } from '../../engine/campaign/metrics.js'
import { createSimulatedEngine } from '../../engine/campaign/simulated-engine.js'
import { parseScenario } from '../../engine/telephony/sim/scenario.js'
import { engineTestEnv } from './fixtures/engine-env.js'

/** The phones of a site as the desk sees them: which sessions are up, and what the desk asked for. */
class SitePhones implements AgentPhones {
  readonly up = new Set<string>()
  readonly asked: string[] = []
  login(agentId: string): void {
    this.asked.push(`login ${agentId}`)
  }
  async logout(agentId: string): Promise<void> {
    this.asked.push(`logout ${agentId}`)
    this.up.delete(agentId)
  }
  isUp(agentId: string): boolean {
    return this.up.has(agentId)
  }
}

t.test('agents are routable only while their phone is up', async (t) => {
  const env = await engineTestEnv('agent-phones')
  t.teardown(() => env.dispose())
  const phones = new SitePhones()
  const clock = new VirtualClock(Date.parse('2026-11-23T01:00:00Z'))
  const { runtime, acd } = createSimulatedEngine({
    clock,
    redis: env.redis,
    keys: env.keys,
    repos: env.repos,
    metrics: createEngineMetrics(new Registry()),
    logger: pino({ level: 'silent' }),
    scenario: parseScenario({ agents: 2 }),
    seed: 1,
    instanceId: 'phones',
    overrides: { agentPhones: phones },
  })
  const desk = runtime.desk

  const waiting = await desk.login('a1', { ready: true, skills: {} })
  t.equal(waiting.state, 'paused', 'no phone yet: not ready')
  t.equal((await acd.get('a1'))?.pauseReason, 'phone-down')
  t.same(await acd.readyAgents(), [], 'the ACD routes nobody to them')
  t.same(phones.asked, ['login a1'], 'the desk asked for the session')
  await t.rejects(desk.ready('a1'), AgentDeskRefused, 'ready without a phone is refused')

  phones.up.add('a1')
  t.equal((await desk.ready('a1')).state, 'ready', 'ready once the phone is up')
  t.same(await acd.readyAgents(), ['a1'])

  phones.up.add('a2')
  t.equal((await desk.login('a2', { ready: true, skills: {} })).state, 'ready', 'a phone already up: ready at once')

  await desk.logout('a1')
  t.same(phones.asked, ['login a1', 'login a2', 'logout a1'], 'logout closes the session')
  t.equal((await acd.get('a1'))?.state, 'logged-out')
})
