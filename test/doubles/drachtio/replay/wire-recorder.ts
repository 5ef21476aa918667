/**
 * A transparent TCP proxy between drachtio-srf and the server (the double, or a real drachtio-server), recording every
 * admin frame in both directions: the same vantage point the captures were taken from (their wireproxy), so one test
 * compares against either server the same way. Bytes are forwarded untouched; parsing is only for the record.
 */
import net from 'node:net'

export type Direction = 'APP=>SRV' | 'SRV=>APP'

export interface RecordedFrame {
  conn: number
  dir: Direction
  payload: string
}

/** Client-side frame splitting; a stream that stops parsing is recorded as one `unparseable` entry and then ignored. */
class Splitter {
  private buf = Buffer.alloc(0)
  private broken = false
  constructor(private readonly onFrame: (payload: string) => void, private readonly onGarbage: (raw: string) => void) {}

  push(chunk: Buffer): void {
    if (this.broken) return
    this.buf = Buffer.concat([this.buf, chunk])
    for (;;) {
      const hash = this.buf.indexOf(0x23)
      if (hash === -1) return
      const prefix = this.buf.toString('ascii', 0, hash)
      if (!/^\d{1,9}$/.test(prefix)) {
        this.broken = true
        this.onGarbage(this.buf.toString('utf8'))
        return
      }
      const len = Number(prefix)
      if (this.buf.length < hash + 1 + len) return
      this.onFrame(this.buf.toString('utf8', hash + 1, hash + 1 + len))
      this.buf = this.buf.subarray(hash + 1 + len)
    }
  }
}

export class WireRecorder {
  readonly frames: RecordedFrame[] = []
  readonly garbage: Array<{ conn: number; dir: Direction; raw: string }> = []
  port = 0
  private server?: net.Server
  private readonly sockets = new Set<net.Socket>()
  private nextConn = 1

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.server = net.createServer((app) => {
      const conn = this.nextConn++
      const upstream = net.connect(this.target.port, this.target.host)
      this.sockets.add(app)
      this.sockets.add(upstream)
      const fromApp = new Splitter(
        (payload) => this.frames.push({ conn, dir: 'APP=>SRV', payload }),
        (raw) => this.garbage.push({ conn, dir: 'APP=>SRV', raw }),
      )
      const fromSrv = new Splitter(
        (payload) => this.frames.push({ conn, dir: 'SRV=>APP', payload }),
        (raw) => this.garbage.push({ conn, dir: 'SRV=>APP', raw }),
      )
      app.on('data', (d) => {
        fromApp.push(d)
        upstream.write(d)
      })
      upstream.on('data', (d) => {
        fromSrv.push(d)
        app.write(d)
      })
      app.on('end', () => upstream.end())
      upstream.on('end', () => app.end())
      app.on('close', () => {
        upstream.destroy()
        this.sockets.delete(app)
      })
      upstream.on('close', () => {
        app.destroy()
        this.sockets.delete(upstream)
      })
      app.on('error', () => undefined)
      upstream.on('error', () => undefined)
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as net.AddressInfo).port
    return this
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}
