/**
 * A real Redis for a test: connections to 127.0.0.1:6379 and a random key prefix of its own, every key under
 * which is deleted at teardown (never FLUSHDB: the Redis is shared).
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { CadenceKeys } from '../../../engine/store/redis/keys.js'

export interface RedisEnv {
  prefix: string
  keys: CadenceKeys
  connect(): Redis
  cleanup(): Promise<void>
}

export function redisEnv(name: string): RedisEnv {
  const prefix = `cadence-test-${name}-${randomBytes(4).toString('hex')}`
  const conns: Redis[] = []
  const connect = (): Redis => {
    const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false, maxRetriesPerRequest: 2 })
    conns.push(r)
    return r
  }
  return {
    prefix,
    keys: new CadenceKeys(prefix),
    connect,
    async cleanup() {
      const r = conns[0] ?? connect()
      let cursor = '0'
      do {
        const [next, found] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
        cursor = next
        if (found.length > 0) await r.del(...found)
      } while (cursor !== '0')
      await Promise.all(conns.map((c) => c.quit()))
    },
  }
}
