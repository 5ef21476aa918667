/** 归属地 of unknown callers: country and type for any number; province, city or carrier for mainland China. */
import t from 'tap'
import { createTestDb } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

// Nothing here touches the database beyond the app's own start-up: one fast database for the file.
const test = await createTestDb('pglite')
t.teardown(() => test.dispose())
const h = await harness(test.db)
t.teardown(() => h.app.close())

interface Region {
  number: string
  country: string | null
  type: string
  areaCode: string | null
  province: { code: string; name: string; nameEn: string } | null
  city: { name: string; nameEn: string } | null
  carrier: { name: string; nameEn: string; virtual: boolean } | null
}

async function region(number: string, qs = ''): Promise<Region> {
  const res = await h.app.inject({ method: 'GET', url: `/v1/number-regions/${encodeURIComponent(number)}${qs}`, headers: h.auth('agent') })
  t.equal(res.statusCode, 200, res.body)
  return res.json<Region>()
}

t.test('mainland mobiles: carrier of the block, no province', async (t) => {
  const r = await region('13812345678')
  t.same(r, { number: '+8613812345678', country: 'CN', countryCallingCode: '86', type: 'mobile', areaCode: null, province: null, city: null, carrier: { name: '中国移动', nameEn: 'China Mobile', virtual: false } })
  t.equal((await region('+86 186 0000 1111')).carrier?.nameEn, 'China Unicom')
  t.equal((await region('0086 189 0000 1111')).carrier?.nameEn, 'China Telecom')
  const mvno = await region('17012345678')
  t.same([mvno.carrier?.nameEn, mvno.carrier?.virtual], ['China Telecom', true])
})

t.test('mainland fixed lines: area code, province and big cities', async (t) => {
  const sz = await region('0755 8888 1234')
  t.same([sz.type, sz.areaCode, sz.province?.code, sz.province?.name, sz.city?.nameEn, sz.carrier], ['fixed-line', '0755', 'CN-GD', '广东', 'Shenzhen', null])
  const bj = await region('+86 10 6552 9988')
  t.same([bj.areaCode, bj.province?.code, bj.city?.name], ['010', 'CN-BJ', '北京'])
  const hainan = await region('0898 6666 1234')
  t.same([hainan.areaCode, hainan.province?.nameEn], ['0898', 'Hainan'], 'the exception inside Tibet’s block')
  const lhasa = await region('0891 6666 123')
  t.same([lhasa.province?.nameEn, lhasa.city?.nameEn], ['Tibet', 'Lhasa'])
  const dongguan = await region('0769 2222 3333')
  t.same([dongguan.province?.code, dongguan.city?.nameEn], ['CN-GD', 'Dongguan'])
})

t.test('other countries: country and type only; national numbers read in the region asked', async (t) => {
  const jp = await region('+81 3-1234-5678')
  t.same([jp.country, jp.type, jp.province, jp.carrier], ['JP', 'fixed-line', null, null])
  const gb = await region('020 7946 0000', '?region=GB')
  t.same([gb.number, gb.country], ['+442079460000', 'GB'])
  const hk = await region('+852 2123 4567')
  t.same([hk.country, hk.province], ['HK', null], 'Hong Kong is its own country code, not a mainland province')
})

t.test('a number that is not one is a 400 problem naming it', async (t) => {
  for (const bad of ['hello', '12345', '+86 138']) {
    const res = await h.app.inject({ method: 'GET', url: `/v1/number-regions/${encodeURIComponent(bad)}`, headers: h.auth('qa') })
    const p = problem(t, res, 400)
    t.equal(p.errors?.[0]?.field, 'params.number')
  }
  problem(t, await h.app.inject({ method: 'GET', url: '/v1/number-regions/13812345678?region=china', headers: h.auth('qa') }), 400)
  problem(t, await h.app.inject({ method: 'GET', url: '/v1/number-regions/13812345678' }), 401)
})
