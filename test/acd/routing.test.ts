import t from 'tap'
import { chooseAgent, rankAgents, type RoutingCandidate } from '../../engine/acd/routing.js'

const agents: RoutingCandidate[] = [
  { agentId: 'ann', readySince: 300, calls: 5, talkMs: 9000, skills: { sales: 2, service: 1 } },
  { agentId: 'bob', readySince: 100, calls: 9, talkMs: 1000, skills: { sales: 1 } },
  { agentId: 'cat', readySince: 200, calls: 2, talkMs: 5000, skills: { sales: 1, service: 2 } },
  { agentId: 'dan', readySince: 100, calls: 2, talkMs: 5000 },
]

t.test('strategies', async (t) => {
  t.equal(chooseAgent(agents, { strategy: 'longest-idle' }), 'bob', 'ready since 100, bob before dan by id')
  t.equal(chooseAgent(agents, { strategy: 'fewest-calls' }), 'dan', 'cat and dan tie on calls, dan idle longer')
  t.equal(chooseAgent(agents, { strategy: 'least-talk-time' }), 'bob')
  t.equal(chooseAgent([], { strategy: 'longest-idle' }), undefined)
})

t.test('skills with tiers: best tier first, then the strategy', async (t) => {
  t.same(
    rankAgents(agents, { strategy: 'fewest-calls', skill: 'sales' }).map((a) => a.agentId),
    ['cat', 'bob', 'ann'],
    'tier 1 (cat 2 calls, bob 9) before tier 2; dan lacks the skill',
  )
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', skill: 'service' }), 'ann')
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', skill: 'legal' }), undefined)
})

t.test('owner first (sticky), else by strategy unless owner-only', async (t) => {
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', ownerAgentId: 'ann' }), 'ann')
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', ownerAgentId: 'zed' }), 'bob', 'owner not ready')
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', ownerAgentId: 'zed', ownerOnly: true }), undefined)
})
