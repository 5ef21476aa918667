import t from 'tap'
import fc from 'fast-check'
import { toCdr, type Cdr } from '../../../engine/calls/cdr.js'
import { isTerminal, newCall, step, type CallInput, type CallRecord } from '../../../engine/calls/lifecycle.js'
import type { CdrRecord } from '../../../engine/store/sql/cdrs.js'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { repositories } from '../../../engine/store/sql/repositories.js'
import { createPgTestDb } from './databases.js'
import { settings } from './settings-fixture.js'
import { testPii } from '../../fixtures/pii.js'

// The engine's CDR must fit the store's record: this line stops compiling when the two drift apart.
const fits = (c: Cdr): CdrRecord => c

const opts = { maxAgentWaitMs: 2000, amd: false }

/** Feed inputs until the call is terminal; inputs that do not apply in the current state are skipped. */
function run(callId: string, inputs: CallInput[]): CallRecord {
  let call = newCall(callId, 'camp', 'lead-1', 0)
  for (const input of inputs) {
    if (isTerminal(call) && call.endedAt !== undefined) break
    try {
      call = step(call, input, opts).call
    } catch {
      // An input the state machine refuses in this state: the engine would not send it.
    }
  }
  return call
}

t.test('CDRs the engine produces land once each on real PostgreSQL, whatever their shape', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  await migrate(test.db)
  const repo = repositories(test.db, testPii())
  await repo.campaigns.create({ id: 'camp', name: 'engine cdrs', settings: settings() })

  const scripts: CallInput[][] = [
    [
      { type: 'ringing', at: 1000 },
      { type: 'answered', at: 9000 },
      { type: 'agent-reserved', at: 9100, agentId: 'ag-1' },
      { type: 'bridged', at: 9500, agentId: 'ag-1' },
      { type: 'ended', at: 190_000, endedBy: 'customer' },
    ],
    [
      { type: 'ringing', at: 1000 },
      { type: 'failed', at: 30_000, cause: 'no-answer', sipStatus: 480, sipReason: 'Temporarily Unavailable' },
      { type: 'ended', at: 30_000, endedBy: 'system' },
    ],
    [
      { type: 'answered', at: 5000 },
      { type: 'agent-wait-expired', at: 7000 },
      { type: 'ended', at: 12_000, endedBy: 'system' },
    ],
    // ended by us on a SIT heard in the early media: what was heard is kept beside the 487 of our CANCEL
    [
      { type: 'early-media', at: 1500 },
      {
        type: 'failed',
        at: 4000,
        cause: 'invalid-number',
        sipStatus: 487,
        sipReason: 'Request Terminated',
        earlyMedia: { reason: 'sit-vacant-code', detail: 'SIT VC HL/SSL' },
      },
    ],
  ]
  let n = 0
  for (const script of scripts) {
    const call = run(`call-${n++}`, script)
    if (!isTerminal(call) || call.endedAt === undefined) {
      t.fail(`script ${n} did not end the call (state ${call.state})`)
      continue
    }
    const engineCdr = toCdr(call)
    const cdr = fits(engineCdr)
    t.equal(await repo.cdrs.write(engineCdr), true, 'the dialer\'s CdrSink writes it')
    t.same(await repo.cdrs.insert(cdr), { inserted: false }, 'a replay writes nothing')
    t.equal(await repo.cdrs.write(engineCdr), false)
    t.same(await repo.cdrs.get(cdr.callId), JSON.parse(JSON.stringify(cdr)), `${cdr.outcome} round-trips`)
  }

  // Random replays of random calls: the table always holds exactly one row per distinct call id.
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 20 }), async (ids) => {
      const before = await test.db.query<{ n: number }>('SELECT count(*) AS n FROM cdrs')
      const fresh = `p${Math.random().toString(36).slice(2)}`
      const results = await Promise.all(
        ids.map((i) =>
          repo.cdrs.insert({
            ...toCdr(run(`${fresh}-${i}`, scripts[i % scripts.length]!)),
          }),
        ),
      )
      const distinct = new Set(ids).size
      const after = await test.db.query<{ n: number }>('SELECT count(*) AS n FROM cdrs')
      return results.filter((r) => r.inserted).length === distinct && after.rows[0]!.n - before.rows[0]!.n === distinct
    }),
    { numRuns: 25 },
  )
})
