/**
 * The keys of a real site's SIP side (issue 5) and the trunks file: typed values, every bad one named, what is
 * required together, the demo off beside real trunks, secrets and gateway passwords never echoed or logged.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { ConfigError, describeConfig, loadConfig } from '../../config/config.js'
import { loadTrunksFile, parseTrunks } from '../../config/trunks.js'

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

const SITE = { DRACHTIO_ADDRESS: '127.0.0.1:9022', DRACHTIO_SECRET: 's3cret-admin', CADENCE_TRUNKS_FILE: '/etc/cadence/trunks.json' }

t.test('unset: the simulated site only, with the documented defaults', async (t) => {
  const c = loadConfig({ env: {} })
  t.equal(c.telephony.drachtio, undefined)
  t.equal(c.demo.enabled, true)
  t.equal(c.telephony.ringTimeoutMs, 25_000)
  t.equal(c.telephony.maxCallMs, 14_400_000)
  t.same(c.telephony.rtpengine, { engines: [{ host: '127.0.0.1', port: 22222 }], timeoutMs: 2000, recvBufferBytes: undefined })
  t.equal(describeConfig(c)['telephony'], 'simulated site only')
})

t.test('a site: drachtio, rtpengine list, trunks file, ring timeout and maximum call length', async (t) => {
  const c = loadConfig({
    env: {
      ...SITE,
      CADENCE_RTPENGINE_NG: '10.0.0.5:22222, rtp2.site.example:2223',
      CADENCE_RTPENGINE_TIMEOUT_MS: '500',
      CADENCE_RTPENGINE_RECV_BUFFER_BYTES: '4194304',
      CADENCE_RING_TIMEOUT_SECONDS: '30',
      CADENCE_MAX_CALL_SECONDS: '0',
    },
  })
  t.same(c.telephony.drachtio, { host: '127.0.0.1', port: 9022, secret: 's3cret-admin' })
  t.same(c.telephony.rtpengine.engines, [
    { host: '10.0.0.5', port: 22222 },
    { host: 'rtp2.site.example', port: 2223 },
  ])
  t.equal(c.telephony.rtpengine.timeoutMs, 500)
  t.equal(c.telephony.rtpengine.recvBufferBytes, 4_194_304)
  t.equal(c.telephony.trunksFile, '/etc/cadence/trunks.json')
  t.equal(c.telephony.ringTimeoutMs, 30_000)
  t.equal(c.telephony.maxCallMs, 0, '0: no limit')
  t.equal(c.demo.enabled, false, 'no simulated demo beside real trunks')
  const described = JSON.stringify(describeConfig(c))
  t.notMatch(described, /s3cret-admin/, 'the secret is never in the logged configuration')
  t.match(described, /127\.0\.0\.1:9022/)
})

t.test('the same keys from the JSON file, rtpengine as an array', async (t) => {
  const file = JSON.stringify({
    drachtio: { address: 'drachtio.local:9022', secret: 'x' },
    rtpengine: { ng: ['127.0.0.1:22222', '127.0.0.2:22222'] },
    telephony: { trunksFile: 'trunks.json', ringTimeoutSeconds: 15, maxCallSeconds: 7200 },
  })
  const c = loadConfig({ env: { CADENCE_CONFIG: 'c.json' }, readFile: () => file })
  t.equal(c.telephony.drachtio?.host, 'drachtio.local')
  t.equal(c.telephony.rtpengine.engines.length, 2)
  t.equal(c.telephony.ringTimeoutMs, 15_000)
  t.equal(c.telephony.maxCallMs, 7_200_000)
})

t.test('bad values are named with the form expected; the secret is not echoed', async (t) => {
  const problems = problemsOf(() =>
    loadConfig({
      env: {
        DRACHTIO_ADDRESS: '127.0.0.1',
        CADENCE_RTPENGINE_NG: '127.0.0.1:22222,nope',
        CADENCE_RING_TIMEOUT_SECONDS: '14',
        CADENCE_MAX_CALL_SECONDS: '-1',
        CADENCE_RTPENGINE_TIMEOUT_MS: '5',
      },
    }),
  )
  t.same(problems, [
    'DRACHTIO_ADDRESS: expected host:port of the drachtio-server admin port, got "127.0.0.1"',
    'CADENCE_RTPENGINE_NG: expected a comma-separated list (file: an array) of host:port, got "127.0.0.1:22222,nope"',
    'CADENCE_RTPENGINE_TIMEOUT_MS: expected an integer 100-30000, got "5"',
    'CADENCE_RING_TIMEOUT_SECONDS: expected an integer 15-300 (15 s is the regulatory minimum ring time), got "14"',
    'CADENCE_MAX_CALL_SECONDS: expected an integer 0-86400 (0: no limit), got "-1"',
  ])
  const secret = problemsOf(() => loadConfig({ env: { CADENCE_CONFIG: 'c.json' }, readFile: () => '{"drachtio":{"secret":12345678}}' }))
  t.same(secret, ['c.json: drachtio.secret: expected a non-empty string, got (value hidden)'])
  t.same(problemsOf(() => loadConfig({ env: { DRACHTIO_ADDRESS: 'h:70000' } })), ['DRACHTIO_ADDRESS: expected host:port of the drachtio-server admin port, got "h:70000"'])
})

t.test('DRACHTIO_ADDRESS needs its secret and a trunks file', async (t) => {
  t.same(problemsOf(() => loadConfig({ env: { DRACHTIO_ADDRESS: '127.0.0.1:9022' } })), [
    'DRACHTIO_SECRET: required when DRACHTIO_ADDRESS is set',
    'CADENCE_TRUNKS_FILE: required when DRACHTIO_ADDRESS is set (the trunks to dial through)',
  ])
})

const GOOD = {
  trunks: [
    {
      id: 'carrier-a',
      gateways: [{ address: 'sip1.carrier.example:5060', transport: 'udp', auth: { username: 'u', password: 'pw-secret' } }, { address: '10.1.1.1' }],
      maxChannels: 120,
      maxCps: 10,
      defaultCallerId: '+4930123456',
      forceCallerId: true,
      numberRules: [{ match: '^\\+49', replace: '0' }],
    },
    { id: 'carrier-b', gateways: [{ address: 'sip.b.example', transport: 'tcp' }] },
  ],
  defaultTrunk: 'carrier-b',
}

t.test('a good trunks file becomes the trunks the adapter dials', async (t) => {
  const parsed = parseTrunks(GOOD)
  t.notOk(Array.isArray(parsed), 'accepted')
  if (Array.isArray(parsed)) return
  t.equal(parsed.defaultTrunk, 'carrier-b')
  t.same(parsed.trunks[0], GOOD.trunks[0])
  t.same(parsed.trunks[1], GOOD.trunks[1])
  const first = parseTrunks({ trunks: [GOOD.trunks[1]] })
  t.equal(Array.isArray(first) ? undefined : first.defaultTrunk, 'carrier-b', 'the first trunk is the default when none is named')
})

t.test('deploy/trunks.example.json is a valid trunks file', async (t) => {
  const f = loadTrunksFile(new URL('../../deploy/trunks.example.json', import.meta.url).pathname)
  t.ok(f.trunks.length > 0)
  t.ok(f.trunks.every((x) => x.gateways.length > 0))
})

t.test('every bad field of a trunks file is named by its place; passwords are never echoed', async (t) => {
  const bad = {
    trunks: [
      {
        id: 'bad id!',
        gateways: [{ address: 'sip.x.example:99999', transport: 'sctp', auth: { username: 'u', password: '' }, port: 5 }],
        maxChannels: -1,
        maxCps: 1.5,
        defaultCallerId: 'anonymous',
        numberRules: [{ match: '(', replace: '' }],
      },
      { id: 'b', gateways: [] },
      { id: 'b', gateways: [{ address: 'ok.example' }], forceCallerId: true },
    ],
    defaultTrunk: 'nope',
    extra: 1,
  }
  const problems = parseTrunks(bad)
  t.ok(Array.isArray(problems))
  if (!Array.isArray(problems)) return
  const expected = [
    /^extra: unknown key/,
    /^trunks\[0\]\.id: expected 1-64 of/,
    /^trunks\[0\]\.gateways\[0\]\.port: unknown key/,
    /^trunks\[0\]\.gateways\[0\]\.address: expected host or host:port, got "sip\.x\.example:99999"$/,
    /^trunks\[0\]\.gateways\[0\]\.transport: expected "udp" or "tcp", got "sctp"$/,
    /^trunks\[0\]\.gateways\[0\]\.auth: expected \{"username"/,
    /^trunks\[0\]\.maxChannels: expected an integer 0-100000/,
    /^trunks\[0\]\.maxCps: expected an integer 0-100000/,
    /^trunks\[0\]\.defaultCallerId: expected a phone number/,
    /^trunks\[0\]\.numberRules\[0\]\.match: not a regular expression/,
    /^trunks\[1\]\.gateways: expected a non-empty array/,
    /^trunks\[2\]\.id: "b" is used by another trunk$/,
    /^trunks\[2\]\.forceCallerId: needs trunks\[2\]\.defaultCallerId$/,
    /^defaultTrunk: expected the id of a trunk in this file, got "nope"$/,
  ]
  t.equal(problems.length, expected.length, problems.join('\n'))
  for (const re of expected) t.ok(problems.some((p) => re.test(p)), `${re}`)
  const withPassword = parseTrunks({ trunks: [{ id: 'a', gateways: [{ address: 'x.example', auth: { username: '', password: 'hunter2-secret' } }] }] })
  t.ok(Array.isArray(withPassword))
  t.notMatch(JSON.stringify(withPassword), /hunter2/, 'the password is not in the error')
})

t.test('loadTrunksFile names the file: unreadable, not JSON, wrong shape', async (t) => {
  t.match(problemsOf(() => loadTrunksFile('/no/such/trunks.json')), [/^CADENCE_TRUNKS_FILE: \/no\/such\/trunks\.json: cannot read it \(ENOENT\)$/])
  t.match(problemsOf(() => loadTrunksFile('t.json', () => '{oops')), [/^CADENCE_TRUNKS_FILE: t\.json: not valid JSON/])
  t.same(problemsOf(() => loadTrunksFile('t.json', () => '[]')), ['CADENCE_TRUNKS_FILE: t.json: trunks: expected an object {"trunks": [...]} with an array of trunks'])
  t.same(problemsOf(() => loadTrunksFile('t.json', () => '{"trunks": []}')), ['CADENCE_TRUNKS_FILE: t.json: trunks: expected at least one trunk'])
  const ok = loadTrunksFile('t.json', () => JSON.stringify(GOOD))
  t.equal(ok.trunks.length, 2)
})

t.test('the README table lists the new keys', async (t) => {
  const readme = readFileSync(new URL('../../config/README.md', import.meta.url), 'utf8')
  for (const k of ['DRACHTIO_ADDRESS', 'DRACHTIO_SECRET', 'CADENCE_RTPENGINE_NG', 'CADENCE_TRUNKS_FILE', 'CADENCE_RING_TIMEOUT_SECONDS', 'CADENCE_MAX_CALL_SECONDS']) {
    t.match(readme, `\`${k}\``)
  }
})

t.test('media analysis keys: the address rtpengine sends calls\' audio to, the announcements directory', async (t) => {
  const unset = loadConfig({ env: { ...SITE } })
  t.equal(unset.telephony.mediaAddress, '127.0.0.1', 'rtpengine on the same host by default')
  t.equal(unset.telephony.announcementsDir, undefined, 'SIT tones only by default')
  const set = loadConfig({ env: { ...SITE, CADENCE_MEDIA_ADDRESS: '10.0.0.5', CADENCE_ANNOUNCEMENTS_DIR: '/etc/cadence/announcements' } })
  t.equal(set.telephony.mediaAddress, '10.0.0.5')
  t.equal(set.telephony.announcementsDir, '/etc/cadence/announcements')
  for (const bad of ['media.example.com', '10.0.0.256', '::1', '10.0.0']) {
    const problems = problemsOf(() => loadConfig({ env: { ...SITE, CADENCE_MEDIA_ADDRESS: bad } }))
    t.match(problems.join('\n'), /CADENCE_MEDIA_ADDRESS: expected an IPv4 address of this host/, `${bad} refused`)
  }
})

t.test('FreeSWITCH for whisper and barge: optional, needs its secret, never shows it', async (t) => {
  t.equal(loadConfig({ env: SITE }).telephony.freeswitch, undefined, 'unset: listen only')
  t.match(problemsOf(() => loadConfig({ env: { ...SITE, CADENCE_FREESWITCH_ESL: '10.0.0.7:8021' } })), [/^CADENCE_FREESWITCH_SECRET: required/])
  t.match(problemsOf(() => loadConfig({ env: { ...SITE, CADENCE_FREESWITCH_ESL: 'not an address', CADENCE_FREESWITCH_SECRET: 'x' } })).join('\n'), /CADENCE_FREESWITCH_ESL/)
  const c = loadConfig({ env: { ...SITE, CADENCE_FREESWITCH_ESL: '10.0.0.7:8021', CADENCE_FREESWITCH_SECRET: 'esl-pass-77', CADENCE_FREESWITCH_LISTEN: '10.0.0.2:8085' } })
  t.same(c.telephony.freeswitch, { host: '10.0.0.7', port: 8021, secret: 'esl-pass-77', listen: { host: '10.0.0.2', port: 8085 } })
  const shown = JSON.stringify(describeConfig(c))
  t.match(shown, /10\.0\.0\.7:8021/)
  t.notMatch(shown, /esl-pass-77/, 'the event socket password is never shown')
})
