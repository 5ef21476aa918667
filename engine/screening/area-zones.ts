/**
 * Time zones from a number's area code, where the area code pins it down better than the country does.
 *
 * Coverage (the limits are deliberate, see timezone.ts for the fallback):
 * - NANP (+1): the major US and Canadian area codes. Area codes that straddle a zone line (Florida 850, Kentucky
 *   270, Texas 432, Idaho 208, ...) map to every zone they touch, so the call must fit the window in all of them.
 *   Mobile numbers in NANP keep their area code's geography (portability moves carriers, not regions), which is the
 *   best a number alone can say; a lead's own time zone field always wins.
 * - Mainland China (+86) runs on Beijing time. Xinjiang fixed lines (area codes 090x/099x) also get Asia/Urumqi
 *   (local custom, UTC+6); Chinese mobiles carry no geography in the number and stay on Beijing time.
 * Anything else falls back to the region's zones.
 */

const ET = 'America/New_York'
const CT = 'America/Chicago'
const MT = 'America/Denver'
const AZ = 'America/Phoenix'
const PT = 'America/Los_Angeles'

const nanpGroups: Array<[string[], string[]]> = [
  [
    [
      // NY, NJ, PA, New England, DC, MD, VA, GA, the Carolinas, OH, most of FL
      '212', '646', '332', '917', '718', '347', '929', '516', '631', '914', '585', '716', '315', '518', '607', '845',
      '201', '551', '732', '848', '908', '973', '862', '609', '856',
      '215', '267', '445', '412', '878', '610', '484', '717', '570', '814', '724',
      '617', '857', '508', '774', '781', '339', '978', '351', '413', '203', '475', '860', '959', '401', '603', '802', '207',
      '202', '301', '240', '410', '443', '667', '703', '571', '757', '804', '540', '434', '276', '302',
      '404', '470', '678', '770', '706', '762', '912', '229', '478',
      '305', '786', '954', '754', '561', '407', '321', '689', '813', '656', '727', '904', '352', '239', '941', '772', '863', '386',
      '704', '980', '919', '984', '336', '743', '910', '252', '828', '803', '843', '854', '864',
      '216', '440', '614', '380', '513', '937', '419', '567', '330', '234', '740', '220',
      '502', '859', '865', '304', '681',
    ],
    [ET],
  ],
  [['313', '248', '947', '586', '734', '810', '517', '616', '269', '989'], ['America/Detroit']],
  [['317', '463', '765', '260'], ['America/Indiana/Indianapolis']],
  [
    [
      // IL, TX (east of the Pecos), MN, WI, MO, LA, AL, MS, AR, OK, IA, most of KS and NE, Nashville, Memphis
      '312', '872', '773', '630', '331', '847', '224', '708', '815', '779', '217', '618', '309',
      '214', '469', '972', '945', '817', '682', '713', '281', '832', '346', '512', '737', '210', '726', '830', '956', '361',
      '409', '903', '430', '936', '979', '254', '940', '325', '806',
      '612', '651', '763', '952', '218', '320', '507', '414', '262', '608', '920', '715', '534',
      '314', '636', '816', '417', '573', '660', '504', '985', '225', '337', '318', '205', '659', '251', '256', '938',
      '601', '769', '662', '228', '501', '479', '870', '405', '572', '918', '580', '316', '913', '402', '531',
      '515', '319', '563', '641', '712', '615', '629', '901', '219',
    ],
    [CT],
  ],
  [['303', '720', '983', '719', '970', '505', '575', '801', '385', '435', '307', '406', '915'], [MT]],
  [['602', '480', '623', '520'], [AZ]],
  [
    [
      '213', '323', '310', '424', '818', '747', '626', '562', '714', '657', '949', '909', '951', '760', '442', '619', '858',
      '805', '820', '661', '559', '209', '916', '279', '530', '707', '415', '628', '510', '341', '925', '408', '669', '650',
      '831', '206', '253', '360', '564', '425', '509', '503', '971', '702', '725',
    ],
    [PT],
  ],
  [['808'], ['Pacific/Honolulu']],
  // Straddling area codes: every zone they touch.
  [['850'], [ET, CT]],
  [['906'], ['America/Detroit', CT]],
  [['270', '423', '931', '334', '574', '812'], [ET, CT]],
  [['620', '785', '308', '432', '701', '605'], [CT, MT]],
  [['928'], [AZ, MT]],
  [['208', '986'], ['America/Boise', PT]],
  [['541', '458', '775'], [PT, MT]],
  [['907'], ['America/Anchorage', 'America/Adak']],
  // Canada
  [['416', '647', '437', '905', '289', '365', '613', '343', '705', '249', '519', '226', '548'], ['America/Toronto']],
  [['514', '438', '450', '579', '418', '581', '819', '873'], ['America/Toronto']],
  [['604'], ['America/Vancouver']],
  [['250', '778', '236', '672'], ['America/Vancouver', 'America/Edmonton']],
  [['403', '587', '780', '825', '368'], ['America/Edmonton']],
  [['204', '431'], ['America/Winnipeg']],
  [['306', '639'], ['America/Regina']],
  [['902', '782'], ['America/Halifax']],
  [['506'], ['America/Moncton']],
  [['709'], ['America/St_Johns', 'America/Goose_Bay']],
  [['807'], ['America/Toronto', 'America/Winnipeg']],
  [['867'], ['America/Whitehorse', 'America/Edmonton', 'America/Iqaluit']],
]

const nanp = new Map<string, readonly string[]>()
for (const [codes, zones] of nanpGroups) for (const c of codes) nanp.set(c, zones)

const CN_BEIJING = ['Asia/Shanghai'] as const
const CN_XINJIANG = ['Asia/Shanghai', 'Asia/Urumqi'] as const

/**
 * Zones implied by the number's area code, or undefined when the area code says nothing more than the region.
 * `nationalNumber` is the significant number without trunk prefix (China "1065529988" for 010 6552 9988).
 */
export function zonesForAreaCode(countryCallingCode: string, nationalNumber: string): readonly string[] | undefined {
  if (countryCallingCode === '1') return nanp.get(nationalNumber.slice(0, 3))
  if (countryCallingCode === '86') {
    if (/^9[09]\d/.test(nationalNumber) && nationalNumber.length >= 10) return CN_XINJIANG
    return CN_BEIJING
  }
  return undefined
}

/** Every NANP area code the table knows (for tests and documentation). */
export function knownNanpAreaCodes(): string[] {
  return [...nanp.keys()]
}
