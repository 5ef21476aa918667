/** Request logging never carries personal data: a phone number in a URL must not reach the log. */
import t from 'tap'
import { createPgTestDb } from '../store/sql/databases.js'
import { harness } from './harness.js'

t.test('no phone number of a URL reaches the log', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const h = await harness(test.db, { logLevel: 'debug' })
  t.teardown(() => h.app.close())
  await h.app.inject({ method: 'GET', url: '/v1/customers?phone=%2B8613912345678', headers: h.auth('supervisor') })
  await h.app.inject({ method: 'GET', url: '/v1/number-regions/13912345678', headers: h.auth('supervisor') })
  await h.app.inject({ method: 'GET', url: '/v1/number-regions/13912345678' })
  const all = h.logLines.join('\n')
  t.notMatch(all, /13912345678/, 'the number appears nowhere in the log')
  t.ok(h.logLines.some((l) => l.includes('"route":"/v1/number-regions/:number"')), 'requests are logged by route pattern')
})
