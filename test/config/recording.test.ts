/**
 * The recording keys (issue 5 §6): documented defaults, values from the environment and the file, every bad one
 * named; and the campaigns' keyword lists file, every problem reported at once with where it is.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, describeConfig, loadConfig } from '../../config/config.js'
import { KeywordListError, loadKeywordLists, parseKeywordLists } from '../../engine/recordings/keyword-lists.js'

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError || err instanceof KeywordListError) return err.problems
    throw err
  }
  throw new Error('expected an error')
}

t.test('defaults: every campaign recorded, stereo, the Debian spool directory, Opus beside it', async (t) => {
  const c = loadConfig({ env: {} })
  t.strictSame(c.recording, { enabled: true, campaigns: '*', dir: '/var/spool/rtpengine', outputDir: '/var/spool/rtpengine/opus', layout: 'stereo', keywordsFile: undefined })
  t.match(describeConfig(c)['recording'], { campaigns: '*', layout: 'stereo' })
})

t.test('from the environment and the file', async (t) => {
  const env = loadConfig({
    env: {
      CADENCE_RECORDING_CAMPAIGNS: 'camp-a, camp-b,camp-a',
      CADENCE_RECORDING_DIR: '/mnt/rtpengine/',
      CADENCE_RECORDING_LAYOUT: 'MIXED',
      CADENCE_RECORDING_KEYWORDS_FILE: '/etc/cadence/keywords.json',
    },
  })
  t.strictSame(env.recording.campaigns, ['camp-a', 'camp-b'])
  t.equal(env.recording.outputDir, '/mnt/rtpengine/opus', 'the output directory follows the recording directory')
  t.equal(env.recording.layout, 'mixed')
  t.equal(env.recording.keywordsFile, '/etc/cadence/keywords.json')
  const file = JSON.stringify({ recording: { enabled: false, campaigns: ['x'], outputDir: '/srv/recordings' } })
  const c = loadConfig({ env: { CADENCE_CONFIG: '/etc/cadence.json' }, readFile: () => file })
  t.equal(c.recording.enabled, false)
  t.strictSame(c.recording.campaigns, ['x'])
  t.equal(c.recording.outputDir, '/srv/recordings')
  t.equal(describeConfig(c)['recording'], 'off')
})

t.test('bad values are each named', async (t) => {
  const problems = problemsOf(() =>
    loadConfig({ env: { CADENCE_RECORDING: 'maybe', CADENCE_RECORDING_LAYOUT: 'surround', CADENCE_RECORDING_CAMPAIGNS: 'a,,b' } }),
  )
  t.match(problems.join('\n'), /CADENCE_RECORDING: expected a boolean/)
  t.match(problems.join('\n'), /CADENCE_RECORDING_LAYOUT: expected stereo or mixed, got "surround"/)
  t.match(problems.join('\n'), /CADENCE_RECORDING_CAMPAIGNS: expected \* or a comma-separated list/)
})

t.test('keyword lists: examples found relative to the file, required phrases need examples, every problem named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-kw-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'refund-1.wav'), 'x')
  const file = join(dir, 'keywords.json')
  writeFileSync(file, JSON.stringify({ campaigns: { 'camp-a': { examples: [{ keyword: '退款', file: 'refund-1.wav' }], required: ['退款'] } } }))
  const lists = loadKeywordLists(file)
  t.strictSame(lists.get('camp-a'), { examples: [{ keyword: '退款', file: join(dir, 'refund-1.wav') }], required: ['退款'] })
  t.equal(lists.get('camp-b'), undefined, 'a campaign without a list spots nothing')

  const problems = problemsOf(() =>
    parseKeywordLists(
      { campaigns: { a: { examples: [{ keyword: '', file: 'x.wav' }, { keyword: 'k', file: 'missing.wav' }], required: ['投诉'] }, b: 'nope' } },
      'kw.json',
      dir,
    ),
  )
  t.equal(problems.length, 4, problems.join('\n'))
  t.match(problems.join('\n'), /campaigns\.a\.examples\[0\]: expected/)
  t.match(problems.join('\n'), /campaigns\.a\.examples\[1\]: .*missing\.wav does not exist/)
  t.match(problems.join('\n'), /campaigns\.a\.required: "投诉" has no example/)
  t.match(problems.join('\n'), /campaigns\.b: expected/)
  t.match(problemsOf(() => loadKeywordLists(join(dir, 'absent.json')))[0], /ENOENT/)
})
