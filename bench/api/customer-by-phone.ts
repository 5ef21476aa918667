/**
 * The customer-by-phone part of bench:api: the screen pop, GET /v1/customers?phone=..., against the running app.
 * Seeds customers through the CRM repository (names and numbers encrypted as in production, 1-3 phones each, owned
 * by ten agents), then asks for them by number in every format a carrier hands over ("+86 138 ...", "138...",
 * "0086138...") as a site supervisor would see them (site-scoped query). Two rows: as fast as the app answers, and
 * at a fixed 5,000 requests/s evenly paced (bench/api/paced-load.ts), where the target is p99 <= 10 ms. Then the CRM
 * search: by name (exact, hashed) over the same customers, and a filtered page (a tag and a type, 20 newest).
 */
import autocannon from 'autocannon'
import { fromAutocannon, fromPaced, type Measured } from './measured.js'
import { pacedLoad } from './paced-load.js'
import { PiiCipher, type PiiKeyring } from '../../engine/security/pii-cipher.js'
import type { Db } from '../../engine/store/sql/db.js'
import { repositories } from '../../engine/store/sql/repositories.js'

export const CustomerByPhoneTarget = { reqPerSec: 5000, p99Ms: 10 } as const

export interface CustomerByPhoneOptions {
  db: Db
  /** The app's base URL. */
  base: string
  /** The keys the app was built with (its config.pii), so the lookup hashes agree. */
  keyring: PiiKeyring
  seconds: number
  connections: number
  /** Customers to seed; default 20,000. */
  customers?: number
  /** Rows to run; default both. */
  phone?: boolean
  search?: boolean
}

const mobile = (i: number): string => `135${String(i).padStart(8, '0')}`

/** The number in one of the formats callers arrive in, by request count. */
function format(national: string, n: number): string {
  switch (n % 4) {
    case 0:
      return `+86${national}`
    case 1:
      return national
    case 2:
      return `0086${national}`
    default:
      return `+86 ${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`
  }
}

async function seed(o: CustomerByPhoneOptions, count: number): Promise<void> {
  const repos = repositories(o.db, new PiiCipher(o.keyring))
  const agents = await Promise.all(Array.from({ length: 10 }, (_, i) => repos.agents.create({ name: `bench agent ${i}` })))
  const batch = 25
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, (_, k) => {
        const i = start + k
        // Customer i has numbers 3i, 3i+1 (every other one) and 3i+2 (every third one).
        const phones = [{ e164: `+86${mobile(3 * i)}`, country: 'CN', type: 'mobile' }]
        if (i % 2 === 0) phones.push({ e164: `+86${mobile(3 * i + 1)}`, country: 'CN', type: 'mobile' })
        if (i % 3 === 0) phones.push({ e164: `+86${mobile(3 * i + 2)}`, country: 'CN', type: 'mobile' })
        return repos.customers.create({
          siteId: 'default',
          type: 'prospect',
          ownerAgentId: agents[i % agents.length]!.id,
          name: `客户 ${i}`,
          tags: i % 5 === 0 ? ['vip'] : [],
          phones,
          createdBy: 'bench',
        })
      }),
    )
  }
}

/**
 * Requests are built once (autocannon then sends prepared buffers, as for the other rows; a per-request setupRequest
 * would spend the app's CPU on the client side, since both run in this process).
 */
const DistinctRequests = 4000

/** Customers spread over the whole table, each by its first number in a rotating format. */
const phonePath = (count: number) => (i: number): string => `/v1/customers?phone=${encodeURIComponent(format(mobile(3 * ((i * 7919) % count)), i))}`
/** The CRM search: customers by name (exact, any width or spacing), spread over the table. */
const namePath = (count: number) => (i: number): string => `/v1/customers?name=${encodeURIComponent(`客户 ${(i * 7919) % count}`)}`
/** A filtered page: VIP members (1 in 5 customers), newest first, 20 a page. */
const tagPath = (): string => '/v1/customers?tag=vip&type=prospect&limit=20'

function load(o: CustomerByPhoneOptions, apiKey: string, path: (i: number) => string): Promise<Measured> {
  const requests = Array.from({ length: DistinctRequests }, (_, i) => ({ method: 'GET' as const, path: path(i) }))
  return new Promise((resolve, reject) => {
    autocannon(
      { url: o.base, connections: o.connections, duration: o.seconds, headers: { authorization: `Bearer ${apiKey}` }, requests },
      (err, res) => (err ? reject(err) : resolve(fromAutocannon(res))),
    )
  })
}

/** At a fixed rate, evenly paced (autocannon's overallRate sends each second's share in a burst). */
async function paced(o: CustomerByPhoneOptions, apiKey: string, path: (i: number) => string, ratePerSec: number): Promise<Measured> {
  const paths = Array.from({ length: DistinctRequests }, (_, i) => path(i))
  const r = await pacedLoad({ base: o.base, paths, headers: { authorization: `Bearer ${apiKey}` }, ratePerSec, seconds: o.seconds, connections: o.connections })
  return fromPaced(r, ratePerSec)
}

/** Rows for bench:api's table: [name, result]. */
export async function customerByPhoneRows(o: CustomerByPhoneOptions): Promise<Array<[string, Measured]>> {
  const count = o.customers ?? 20_000
  await seed(o, count)
  // A live database has its statistics; right after a bulk seed the planner has none and autovacuum would run during
  // the measurement.
  // One statement each: VACUUM refuses to run in the implicit transaction of a multi-statement string.
  await o.db.exec('VACUUM ANALYZE customers')
  await o.db.exec('VACUUM ANALYZE customer_phones')
  const repos = repositories(o.db)
  const { key } = await repos.apiKeys.create({ name: 'bench-crm', role: 'supervisor', siteId: 'default' })
  // A check before measuring: a wrong answer fast is not a result.
  const probe = await fetch(`${o.base}/v1/customers?phone=${encodeURIComponent(format(mobile(3), 2))}`, { headers: { authorization: `Bearer ${key}` } })
  const body = (await probe.json()) as { items?: Array<{ name: string }> }
  if (probe.status !== 200 || body.items?.length !== 1 || body.items[0]!.name !== '客户 1') {
    throw new Error(`customer-by-phone probe answered ${probe.status} ${JSON.stringify(body).slice(0, 200)}`)
  }
  const named = await fetch(`${o.base}${namePath(count)(1)}`, { headers: { authorization: `Bearer ${key}` } })
  const found = (await named.json()) as { items?: Array<{ name: string }> }
  if (named.status !== 200 || found.items?.length !== 1 || found.items[0]!.name !== `客户 ${7919 % count}`) {
    throw new Error(`customer search probe answered ${named.status} ${JSON.stringify(found).slice(0, 200)}`)
  }
  const rows: Array<[string, Measured]> = []
  if (o.phone !== false) {
    rows.push([`GET customer by phone (${count} customers, max rate)`, await load(o, key, phonePath(count))])
    rows.push([
      `GET customer by phone @ ${CustomerByPhoneTarget.reqPerSec}/s (paced; target p99 <= ${CustomerByPhoneTarget.p99Ms} ms)`,
      await paced(o, key, phonePath(count), CustomerByPhoneTarget.reqPerSec),
    ])
  }
  if (o.search !== false) {
    rows.push([`GET customers search by name (${count} customers)`, await load(o, key, namePath(count))])
    rows.push(['GET customers filtered by tag, page of 20', await load(o, key, tagPath)])
  }
  return rows
}
