// The part of rtpengine-client (ng protocol over UDP, bencoded) the recording tests use; it ships no types.
declare module 'rtpengine-client' {
  export interface NgResponse {
    result: string
    'error-reason'?: string
    sdp?: string
    [k: string]: unknown
  }
  export class Client {
    constructor(opts?: { port?: number; host?: string; timeout?: number; rejectOnFailure?: boolean })
    offer(port: number, host: string, opts: Record<string, unknown>): Promise<NgResponse>
    answer(port: number, host: string, opts: Record<string, unknown>): Promise<NgResponse>
    delete(port: number, host: string, opts: Record<string, unknown>): Promise<NgResponse>
    ping(port: number, host: string): Promise<NgResponse>
    close(): void
  }
}
