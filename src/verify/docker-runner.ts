import { type ChildProcess, spawn, spawnSync } from 'node:child_process'

/** What one docker command did. `code` is -1 when docker could not be started or was killed by the timeout. */
export interface DockerResult {
  code: number
  stdout: string
  stderr: string
  /** stdout as bytes, for `docker cp … -` (a tar stream). */
  bytes: Buffer
  timedOut: boolean
}

export interface DockerCallOptions {
  timeoutMs?: number
  input?: Buffer | string
  /** Extra variables for the docker client itself: how `--env NAME` passes a value without putting it on argv. */
  env?: Record<string, string>
}

/**
 * The docker command line, always run with an argument array (never through a shell), so no value in a task
 * definition is ever interpreted. It remembers the commands in flight so that a cancelled run can end them
 * before it removes what they created.
 */
export class DockerRunner {
  private readonly running = new Set<ChildProcess>()

  constructor(
    readonly command: string,
    private readonly env: NodeJS.ProcessEnv
  ) {}

  run(args: string[], options: DockerCallOptions = {}): Promise<DockerResult> {
    return new Promise(resolve => {
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      let timedOut = false
      let settled = false
      const finish = (code: number, extra = ''): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.running.delete(child)
        const bytes = Buffer.concat(stdout)
        resolve({ code, stdout: bytes.toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') + extra, bytes, timedOut })
      }
      const child = spawn(this.command, args, { env: { ...this.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] })
      this.running.add(child)
      const timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, options.timeoutMs ?? 60_000)
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
      child.on('error', error => finish(-1, `${error.message}`))
      child.on('close', code => finish(timedOut ? -1 : (code ?? -1), timedOut ? `docker ${args[0]} timed out after ${options.timeoutMs ?? 60_000} ms` : ''))
      child.stdin.on('error', () => {}) // docker may exit before reading its input
      child.stdin.end(options.input ?? '')
    })
  }

  /** The same, blocking: for cleanup inside a signal or exit handler, where nothing asynchronous runs any more. */
  runSync(args: string[], timeoutMs = 30_000): DockerResult {
    const result = spawnSync(this.command, args, { env: this.env, timeout: timeoutMs, maxBuffer: 64 << 20 })
    const bytes = result.stdout ?? Buffer.alloc(0)
    return {
      code: result.status ?? -1,
      stdout: bytes.toString('utf8'),
      stderr: `${result.stderr?.toString('utf8') ?? ''}${result.error ? result.error.message : ''}`,
      bytes,
      timedOut: result.error !== undefined && /ETIMEDOUT/.test(String(result.error))
    }
  }

  /** Ends every docker command still running (a cancelled run), so none of them creates anything after cleanup. */
  killRunning(): void {
    for (const child of this.running) child.kill('SIGKILL')
    this.running.clear()
  }
}

export { lastLine } from '../core/text.js'
