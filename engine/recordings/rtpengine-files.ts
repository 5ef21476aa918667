/**
 * The files rtpengine writes for a recorded call (`--recording-method=pcap`, checked on Debian's rtpengine 10.5):
 * `<recording-dir>/pcaps/<call-id>-<16 hex>.pcap`, one per `start recording` (a pause is a stop, a resume a new
 * start, so a paused call has several), each with `<recording-dir>/metadata/rtpengine-meta-<call-id>-<same hex>.txt`
 * whose first line is the pcap's path and whose last lines are the metadata we gave. rtpengine writes the metadata
 * file to a temporary name and moves it into metadata/ when the pcap is closed: a segment is finished exactly when
 * its metadata file is there. Every packet record holds the packet as rtpengine received it (raw IP, source = the
 * party's address), so the segments of one call merge into one capture by concatenating their records.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { pipeline } from 'node:stream/promises'

export interface RecordingSegment {
  /** The pcap, under our own view of the recording directory (rtpengine may mount it elsewhere). */
  pcap: string
  metadata: string
  /** False once the pcap was processed and deleted (its metadata file is removed after that). */
  pcapExists: boolean
}

const PCAP_HEADER = 24

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The finished segments of a call's recording (their metadata files moved into metadata/), oldest pcap first. */
export async function findRecordingSegments(dir: string, callId: string): Promise<RecordingSegment[]> {
  const metaDir = join(dir, 'metadata')
  let names: string[]
  try {
    names = await readdir(metaDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const pattern = new RegExp(`^rtpengine-meta-${escapeRegExp(callId)}-([0-9a-f]{16})\\.txt$`)
  const found: Array<RecordingSegment & { mtimeMs: number }> = []
  for (const name of names) {
    if (!pattern.test(name)) continue
    const metadata = join(metaDir, name)
    const first = (await readFile(metadata, 'utf8')).split('\n', 1)[0]!.trim()
    const pcap = join(dir, 'pcaps', basename(first))
    const s = await stat(pcap).catch(() => undefined)
    found.push({ pcap, metadata, pcapExists: s !== undefined, mtimeMs: s?.mtimeMs ?? 0 })
  }
  return found.sort((a, b) => a.mtimeMs - b.mtimeMs).map(({ mtimeMs: _, ...segment }) => segment)
}

/** The call's pcaps rtpengine is still writing: no metadata file of theirs in metadata/ yet. */
export async function openRecordingPcaps(dir: string, callId: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(join(dir, 'pcaps'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const pattern = new RegExp(`^${escapeRegExp(callId)}-([0-9a-f]{16})\\.pcap$`)
  const open: string[] = []
  for (const name of names) {
    const m = pattern.exec(name)
    if (!m) continue
    const meta = join(dir, 'metadata', `rtpengine-meta-${callId}-${m[1]}.txt`)
    if (!(await stat(meta).then(() => true, () => false))) open.push(join(dir, 'pcaps', name))
  }
  return open
}

async function header(path: string): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const b = Buffer.alloc(PCAP_HEADER)
    const { bytesRead } = await fh.read(b, 0, PCAP_HEADER, 0)
    if (bytesRead < PCAP_HEADER) throw new Error(`${path}: ${bytesRead} bytes, shorter than a pcap header`)
    return b
  } finally {
    await fh.close()
  }
}

/**
 * One capture of several: the first file's header, then every file's packet records. The files must be pcaps of the
 * same kind (byte order, time resolution, link type), as rtpengine writes them; returns the bytes written.
 */
export async function mergePcaps(inputs: readonly string[], output: string): Promise<number> {
  if (inputs.length === 0) throw new Error('mergePcaps: no input')
  const first = await header(inputs[0]!)
  for (const p of inputs.slice(1)) {
    const h = await header(p)
    // magic (order and resolution) and link type; snap length and version may differ harmlessly
    if (!h.subarray(0, 4).equals(first.subarray(0, 4)) || !h.subarray(20, 24).equals(first.subarray(20, 24))) {
      throw new Error(`${p}: a different kind of pcap than ${inputs[0]}; not merged`)
    }
  }
  const tmp = `${output}.partial`
  try {
    const out = createWriteStream(tmp)
    await new Promise<void>((resolve, reject) => out.write(first, (err) => (err ? reject(err) : resolve())))
    for (const p of inputs) await pipeline(createReadStream(p, { start: PCAP_HEADER }), out, { end: false })
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    let want = PCAP_HEADER
    for (const p of inputs) want += (await stat(p)).size - PCAP_HEADER
    const got = (await stat(tmp)).size
    if (got !== want) throw new Error(`merged capture has ${got} bytes, the segments ${want}`)
    await rename(tmp, output)
    return got
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
