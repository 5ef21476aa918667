/**
 * One replay: start the server (double or real), a sipp peer, connect drachtio-srf through the recorder, let the
 * scenario drive the app side, wait for sipp to finish, then hand back what crossed both wires, masked the same way
 * as the capture it is compared with.
 */
import type { Test } from 'tap'
import { startSipp, type SippOptions, type SippRun } from './sipp.js'
import { connectSrf, startTarget, type ConnectOptions, type Connected, type Target } from './target.js'
import { maskRun, readAdminTranscript, readSippTranscript, type SippEntry } from './transcript.js'
import type { RecordedFrame } from './wire-recorder.js'

export interface ReplayResult {
  frames: RecordedFrame[]
  trace: SippEntry[]
  sippCode: number | null
  sippStderr: string
  errors: Error[]
  target: Target
}

export interface ReplayContext {
  c: Connected
  target: Target
  sipp?: SippRun
  /** `sip:service@127.0.0.1:<sipp port>` for uas scenarios. */
  uri: string
}

export async function replay(
  sippOpts: Omit<SippOptions, 'remote'> & { uac?: boolean },
  drive: (ctx: ReplayContext) => Promise<void>,
  opts: { t1Ms?: number; t2Ms?: number; cdrs?: boolean; limitMs?: number; connect?: ConnectOptions; beforeSipp?: (ctx: ReplayContext) => Promise<void> } = {},
): Promise<ReplayResult> {
  const target = await startTarget({ t1Ms: opts.t1Ms, t2Ms: opts.t2Ms, cdrs: opts.cdrs })
  const c = await connectSrf(target, opts.connect)
  let sipp: SippRun | undefined
  try {
    const ctx: ReplayContext = { c, target, uri: '' }
    if (opts.beforeSipp) await opts.beforeSipp(ctx)
    if (sippOpts.uac) {
      sipp = await startSipp({ ...sippOpts, remote: `${c.sip.host}:${c.sip.port}` })
    } else {
      sipp = await startSipp(sippOpts)
      ctx.uri = `sip:service@127.0.0.1:${sipp.port}`
    }
    ctx.sipp = sipp
    await bounded(drive(ctx), opts.limitMs ?? 20000, 'the scenario')
    const s = await bounded(sipp.done, opts.limitMs ?? 20000, 'sipp to finish')
    await c.disconnect()
    return { frames: [...target.recorder.frames], trace: s.trace, sippCode: s.code, sippStderr: s.stderr, errors: c.errors, target }
  } catch (err) {
    sipp?.kill()
    const s = await sipp?.done
    // what did cross the wires, so a failure can be read from the test output
    const dump = target.recorder.frames.map((f) => `${f.dir} ${f.payload.split('\r\n')[0]}`).join('\n')
    const sip = (s?.trace ?? []).map((e) => `${e.dir} ${e.text.split('\n')[0]}`).join('\n')
    if (err instanceof Error) err.message += `\n--- admin frames:\n${dump}\n--- sipp (exit ${s?.code}):\n${sip}\n${s?.stderr ?? ''}`
    await c.disconnect()
    await target.close()
    throw err
  }
}

/** Every replay step is bounded so a broken double fails the test instead of hanging it. */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, limit])
  } finally {
    clearTimeout(timer)
  }
}

/** Compares a replay with the capture of the same name: admin frames per direction, then the SIP sipp saw. */
export function compareWithCapture(t: Test, name: string, r: ReplayResult, opts: { sip?: boolean } = {}): void {
  const expected = maskRun(readAdminTranscript(name), opts.sip === false ? [] : readSippTranscript(name))
  const actual = maskRun(r.frames, opts.sip === false ? [] : r.trace)
  t.strictSame(actual.app, expected.app, `${name}: app => server frames`)
  t.strictSame(actual.srv, expected.srv, `${name}: server => app frames`)
  if (opts.sip !== false) t.strictSame(actual.sip, expected.sip, `${name}: SIP seen by sipp`)
}
