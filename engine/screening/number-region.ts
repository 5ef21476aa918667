/**
 * 归属地: what a number says of where it is from, for an unknown caller's screen pop. libphonenumber-js (max metadata,
 * via number.ts) gives the country and the number type; it ships no geocoding or carrier data (those are separate
 * files of the Java library), so for mainland China two small tables here fill in what they can:
 *
 * - Fixed lines: the area code. The ten two-digit codes (010 Beijing ... 029 Xi'an) and some forty big-city
 *   four-digit codes name the city; every other area code names its province from the national numbering plan,
 *   where the code's first two digits after the 0 (after the trunk 0: 31x Hebei, 51x/52x Jiangsu, 75x/76x
 *   Guangdong ...) set the province. 0898 Hainan is the one exception inside another province's block (089x Tibet).
 * - Mobiles: the carrier that was allocated the number block (first three digits, four for the 170 virtual-operator
 *   block). Since 2019 numbers can be ported (携号转网), so this is the original carrier, not necessarily the current
 *   one. A mobile's province needs the seven-digit block table (some 500,000 rows, changed monthly), which is not
 *   shipped: mobiles come back with no province.
 *
 * Pure: no I/O, the tables are constants.
 */
import { parsePhone, type PhoneParseResult, type PhoneType } from './number.js'

export interface Place {
  /** Chinese name. */
  name: string
  nameEn: string
}

export interface Province extends Place {
  /** ISO 3166-2 code. */
  code: string
}

export interface Carrier extends Place {
  /** A virtual operator (MVNO) on this carrier's network. */
  virtual: boolean
}

export interface NumberRegion {
  /** E.164. */
  number: string
  /** ISO 3166-1 alpha-2; null for non-geographic numbers. */
  country: string | null
  countryCallingCode: string
  type: PhoneType
  /** Mainland-China fixed lines: "0755". */
  areaCode: string | null
  province: Province | null
  city: Place | null
  /** Mainland-China mobiles: the carrier the block was allocated to (numbers may have been ported since). */
  carrier: Carrier | null
}

export type NumberRegionResult = { ok: true; region: NumberRegion } | { ok: false; reason: string }

const P = (code: string, name: string, nameEn: string): Province => ({ code: `CN-${code}`, name, nameEn })
const Provinces = {
  BJ: P('BJ', '北京', 'Beijing'),
  SH: P('SH', '上海', 'Shanghai'),
  TJ: P('TJ', '天津', 'Tianjin'),
  CQ: P('CQ', '重庆', 'Chongqing'),
  HE: P('HE', '河北', 'Hebei'),
  SX: P('SX', '山西', 'Shanxi'),
  HA: P('HA', '河南', 'Henan'),
  LN: P('LN', '辽宁', 'Liaoning'),
  JL: P('JL', '吉林', 'Jilin'),
  HL: P('HL', '黑龙江', 'Heilongjiang'),
  NM: P('NM', '内蒙古', 'Inner Mongolia'),
  JS: P('JS', '江苏', 'Jiangsu'),
  SD: P('SD', '山东', 'Shandong'),
  AH: P('AH', '安徽', 'Anhui'),
  ZJ: P('ZJ', '浙江', 'Zhejiang'),
  FJ: P('FJ', '福建', 'Fujian'),
  JX: P('JX', '江西', 'Jiangxi'),
  HB: P('HB', '湖北', 'Hubei'),
  HN: P('HN', '湖南', 'Hunan'),
  GD: P('GD', '广东', 'Guangdong'),
  GX: P('GX', '广西', 'Guangxi'),
  HI: P('HI', '海南', 'Hainan'),
  SC: P('SC', '四川', 'Sichuan'),
  GZ: P('GZ', '贵州', 'Guizhou'),
  YN: P('YN', '云南', 'Yunnan'),
  XZ: P('XZ', '西藏', 'Tibet'),
  SN: P('SN', '陕西', 'Shaanxi'),
  GS: P('GS', '甘肃', 'Gansu'),
  QH: P('QH', '青海', 'Qinghai'),
  NX: P('NX', '宁夏', 'Ningxia'),
  XJ: P('XJ', '新疆', 'Xinjiang'),
} as const
type ProvinceKey = keyof typeof Provinces

/** Two-digit area codes (without the trunk 0): the city and its province. */
const TwoDigitAreas: Record<string, [ProvinceKey, string, string]> = {
  '10': ['BJ', '北京', 'Beijing'],
  '20': ['GD', '广州', 'Guangzhou'],
  '21': ['SH', '上海', 'Shanghai'],
  '22': ['TJ', '天津', 'Tianjin'],
  '23': ['CQ', '重庆', 'Chongqing'],
  '24': ['LN', '沈阳', 'Shenyang'],
  '25': ['JS', '南京', 'Nanjing'],
  '27': ['HB', '武汉', 'Wuhan'],
  '28': ['SC', '成都', 'Chengdu'],
  '29': ['SN', '西安', "Xi'an"],
}

/** Three-digit area codes (without the trunk 0) of big cities. */
const CityAreas: Record<string, [string, string]> = {
  '311': ['石家庄', 'Shijiazhuang'],
  '351': ['太原', 'Taiyuan'],
  '371': ['郑州', 'Zhengzhou'],
  '411': ['大连', 'Dalian'],
  '431': ['长春', 'Changchun'],
  '451': ['哈尔滨', 'Harbin'],
  '471': ['呼和浩特', 'Hohhot'],
  '510': ['无锡', 'Wuxi'],
  '512': ['苏州', 'Suzhou'],
  '513': ['南通', 'Nantong'],
  '516': ['徐州', 'Xuzhou'],
  '519': ['常州', 'Changzhou'],
  '531': ['济南', 'Jinan'],
  '532': ['青岛', 'Qingdao'],
  '551': ['合肥', 'Hefei'],
  '571': ['杭州', 'Hangzhou'],
  '574': ['宁波', 'Ningbo'],
  '577': ['温州', 'Wenzhou'],
  '579': ['金华', 'Jinhua'],
  '591': ['福州', 'Fuzhou'],
  '592': ['厦门', 'Xiamen'],
  '595': ['泉州', 'Quanzhou'],
  '731': ['长沙', 'Changsha'],
  '752': ['惠州', 'Huizhou'],
  '754': ['汕头', 'Shantou'],
  '755': ['深圳', 'Shenzhen'],
  '756': ['珠海', 'Zhuhai'],
  '757': ['佛山', 'Foshan'],
  '760': ['中山', 'Zhongshan'],
  '769': ['东莞', 'Dongguan'],
  '771': ['南宁', 'Nanning'],
  '791': ['南昌', 'Nanchang'],
  '851': ['贵阳', 'Guiyang'],
  '871': ['昆明', 'Kunming'],
  '891': ['拉萨', 'Lhasa'],
  '898': ['海口', 'Haikou'],
  '931': ['兰州', 'Lanzhou'],
  '951': ['银川', 'Yinchuan'],
  '971': ['西宁', 'Xining'],
  '991': ['乌鲁木齐', 'Urumqi'],
}

/** Province of a three-digit area code by its first two digits (the numbering plan's blocks). */
const AreaBlocks: Record<string, ProvinceKey> = {
  '31': 'HE', '33': 'HE',
  '34': 'SX', '35': 'SX',
  '37': 'HA', '39': 'HA',
  '41': 'LN', '42': 'LN',
  '43': 'JL', '44': 'JL',
  '45': 'HL', '46': 'HL',
  '47': 'NM', '48': 'NM',
  '51': 'JS', '52': 'JS',
  '53': 'SD', '54': 'SD', '63': 'SD',
  '55': 'AH', '56': 'AH',
  '57': 'ZJ', '58': 'ZJ',
  '59': 'FJ',
  '70': 'JX', '79': 'JX',
  '71': 'HB', '72': 'HB',
  '73': 'HN', '74': 'HN',
  '66': 'GD', '75': 'GD', '76': 'GD',
  '77': 'GX',
  '81': 'SC', '82': 'SC', '83': 'SC',
  '85': 'GZ',
  '69': 'YN', '87': 'YN', '88': 'YN',
  '89': 'XZ',
  '91': 'SN',
  '93': 'GS', '94': 'GS',
  '95': 'NX',
  '97': 'QH',
  '90': 'XJ', '99': 'XJ',
}
/** Codes inside another province's block. */
const AreaExceptions: Record<string, ProvinceKey> = { '898': 'HI' }

const C = (name: string, nameEn: string, virtual = false): Carrier => ({ name, nameEn, virtual })
const Mobile = C('中国移动', 'China Mobile')
const Unicom = C('中国联通', 'China Unicom')
const Telecom = C('中国电信', 'China Telecom')
const Broadnet = C('中国广电', 'China Broadnet')
const virtualOn = (c: Carrier): Carrier => ({ ...c, virtual: true })

/** Mobile blocks by their first three digits (the 170 block is split by its fourth). */
const MobileBlocks: Record<string, Carrier> = {}
for (const p of ['134', '135', '136', '137', '138', '139', '147', '148', '150', '151', '152', '157', '158', '159', '172', '178', '182', '183', '184', '187', '188', '195', '197', '198']) MobileBlocks[p] = Mobile
for (const p of ['130', '131', '132', '145', '146', '155', '156', '166', '175', '176', '185', '186', '196']) MobileBlocks[p] = Unicom
for (const p of ['133', '149', '153', '173', '177', '180', '181', '189', '190', '191', '193', '199']) MobileBlocks[p] = Telecom
MobileBlocks['192'] = Broadnet
MobileBlocks['162'] = virtualOn(Telecom)
MobileBlocks['165'] = virtualOn(Mobile)
MobileBlocks['167'] = virtualOn(Unicom)
MobileBlocks['171'] = virtualOn(Unicom)
const Block170: Record<string, Carrier> = {
  '0': virtualOn(Telecom), '1': virtualOn(Telecom), '2': virtualOn(Telecom),
  '3': virtualOn(Mobile), '5': virtualOn(Mobile), '6': virtualOn(Mobile),
  '4': virtualOn(Unicom), '7': virtualOn(Unicom), '8': virtualOn(Unicom), '9': virtualOn(Unicom),
}

function mobileCarrier(national: string): Carrier | null {
  const block = national.slice(0, 3)
  if (block === '170') return Block170[national[3] ?? ''] ?? null
  return MobileBlocks[block] ?? null
}

function fixedLine(national: string): Pick<NumberRegion, 'areaCode' | 'province' | 'city'> {
  const two = TwoDigitAreas[national.slice(0, 2)]
  if (two) return { areaCode: `0${national.slice(0, 2)}`, province: Provinces[two[0]], city: { name: two[1], nameEn: two[2] } }
  const three = national.slice(0, 3)
  const key = AreaExceptions[three] ?? AreaBlocks[three.slice(0, 2)]
  if (key === undefined) return { areaCode: null, province: null, city: null }
  const city = CityAreas[three]
  return { areaCode: `0${three}`, province: Provinces[key], city: city ? { name: city[0], nameEn: city[1] } : null }
}

/** What is known of where a number is from; `defaultRegion` reads national-format numbers ("13812345678"). */
export function numberRegion(raw: string, defaultRegion?: string): NumberRegionResult {
  const parsed: PhoneParseResult = parsePhone(raw, defaultRegion)
  if (!parsed.ok) return { ok: false, reason: parsed.reason }
  const p = parsed.phone
  const region: NumberRegion = {
    number: p.e164,
    country: p.region ?? null,
    countryCallingCode: p.countryCallingCode,
    type: p.type,
    areaCode: null,
    province: null,
    city: null,
    carrier: null,
  }
  if (p.region !== 'CN') return { ok: true, region }
  if (p.type === 'mobile') region.carrier = mobileCarrier(p.nationalNumber)
  else if (p.type === 'fixed-line' || p.type === 'fixed-line-or-mobile') Object.assign(region, fixedLine(p.nationalNumber))
  return { ok: true, region }
}
