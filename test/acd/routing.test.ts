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

t.test("a call queue's required skills: every one held within its worst accepted tier, ranked by the worst held", async (t) => {
  t.same(
    rankAgents(agents, { strategy: 'longest-idle', skills: { sales: 2, service: 2 } }).map((a) => a.agentId),
    ['cat', 'ann'],
    'cat (worst tier 2, ready since 200) before ann (worst tier 2, since 300); bob lacks service, dan both',
  )
  t.same(rankAgents(agents, { strategy: 'longest-idle', skills: { sales: 1 } }).map((a) => a.agentId), ['bob', 'cat'], 'ann is sales tier 2: below what the queue accepts')
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', skills: { sales: 1, service: 1 } }), undefined, 'nobody is tier 1 at both')
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', skills: {} }), 'bob', 'a queue needing no skill takes anyone')
})

t.test('owner first (sticky), else by strategy unless owner-only', async (t) => {
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', ownerAgentId: 'ann' }), 'ann')
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', ownerAgentId: 'zed' }), 'bob', 'owner not ready')
  t.equal(chooseAgent(agents, { strategy: 'longest-idle', ownerAgentId: 'zed', ownerOnly: true }), undefined)
})
