/**
 * COPY text rows (engine/store/sql/copy-rows.ts) through Queryable.copyIn on both drivers: whatever a CSV cell held
 * (tabs, newlines, backslashes, the text \N, quotes, non-ASCII) comes back from the table exactly, and null is NULL.
 */
import fc from 'fast-check'
import t from 'tap'
import { CopyRows, copyField } from '../../../engine/store/sql/copy-rows.js'
import { forEachDriver } from './databases.js'

const tricky = ['a\tb', 'line\nbreak', 'cr\r\nlf', 'back\\slash', '\\N', '\\', 'N', '', ' ', '"quoted", too', '手机 13800138000', '😀', 'end\\']

t.test('copyField escapes only what COPY gives a meaning', async (t) => {
  t.equal(copyField('+8613800138000'), '+8613800138000')
  t.equal(copyField(null), '\\N')
  t.equal(copyField('\\N'), '\\\\N', 'the text \\N is not NULL')
  t.equal(copyField('a\tb\nc\rd\\e'), 'a\\tb\\nc\\rd\\\\e')
  t.equal(copyField(-12), '-12')
  t.throws(() => copyField(Number.NaN), RangeError)
})

forEachDriver(t, async (t, db) => {
  await db.exec('CREATE TABLE copied (n int, a text, b text)')
  // Random strings too, from the whole of Unicode (no NUL: PostgreSQL text cannot hold it).
  const random = fc.sample(fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0')), { numRuns: 300, seed: 42 })
  const values: Array<string | null> = [...tricky, null, ...random]
  const rows = new CopyRows(16) // tiny, so it grows many times (multi-byte characters across the doublings)
  values.forEach((v, i) => rows.add([i, v, i % 2 === 0 ? null : `x${i}`]))
  t.equal(rows.count, values.length)
  await db.transaction((tx) => tx.copyIn('copied', ['n', 'a', 'b'], rows.bytes))
  const back = await db.query<{ n: number; a: string | null; b: string | null }>('SELECT n, a, b FROM copied ORDER BY n')
  t.equal(back.rows.length, values.length, 'one row per row added')
  t.same(
    back.rows.map((r) => r.a),
    values,
    'every value back as it went in',
  )
  t.ok(back.rows.every((r) => r.b === (r.n % 2 === 0 ? null : `x${r.n}`)), 'the other column lines up')
  await t.rejects(db.copyIn('copied; DROP TABLE copied', ['n'], Buffer.from('1\n')), /not a plain lower-case identifier/)

  // A row the server refuses fails the whole COPY with the server's error; the connection stays usable.
  const bad = await db.copyIn('copied', ['n', 'a'], Buffer.from('1\tok\nnot-a-number\tx\n')).then(
    () => undefined,
    (e: unknown) => e as { code?: string },
  )
  t.equal(bad?.code, '22P02', 'invalid input syntax for type integer')
  await t.rejects(db.copyIn('no_such_table', ['n'], Buffer.from('1\n')), /no_such_table/)
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM copied')).rows[0]!.n, values.length, 'nothing of a failed COPY landed')
  await db.copyIn('copied', ['n'], Buffer.alloc(0))
  t.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM copied')).rows[0]!.n, values.length, 'an empty COPY adds nothing')
})
