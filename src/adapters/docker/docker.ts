import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import type { DockerEngine, FoundCommand } from '../../app/services.js'
import { FAILURE_MARKER } from '../../core/agent.js'
import { DockerError, ImageError } from '../../core/errors.js'
import type { InspectEntry } from '../../core/image-facts.js'
import { lastLine } from '../../core/text.js'

/** What one docker command did. `code` is -1 when docker could not be started or was killed by the timeout. */
export interface DockerResult {
  code: number
  stdout: string
  stderr: string
  /** stdout as bytes, for `docker cp … -` (a tar stream). */
  bytes: Buffer
  timedOut: boolean
  /** Why docker could not be started at all (not on PATH, not executable). */
  spawnError?: string
}

export interface DockerCallOptions {
  timeoutMs?: number
  input?: Buffer | string
  /** Extra variables for the docker client itself: how `--env NAME` passes a value without putting it on argv. */
  env?: Record<string, string>
  /** Echo the command and stream its output to the log as it runs (builds and pushes). */
  logged?: boolean
}

const DEFAULT_TIMEOUT_MS = 60 * 60_000

/**
 * What `docker version` said, asked once per Docker: the engine's version and CPU architecture, or why no engine
 * answers (`reason`), with what docker itself said (`stderr`, its last line) and its exit code.
 */
export type ServerVersion = { ok: true; version: string; architecture: string } | { ok: false; reason: string; stderr: string; code: number }

/**
 * The docker command line: the one way this action runs docker, for image work and for `verify`'s local task alike.
 * Always an argument array, never a shell, so no value from a task definition is ever interpreted; every command has
 * a time limit; commands in flight are remembered so a cancelled run can end them before removing what they made.
 */
export class Docker implements DockerEngine {
  private readonly running = new Set<ChildProcess>()
  private version?: Promise<ServerVersion>

  constructor(
    /** Where build and push output goes: the job log, or stderr for the CLI whose stdout is the result. */
    private readonly log?: Writable,
    readonly command = 'docker',
    private readonly env: NodeJS.ProcessEnv = process.env
  ) {}

  run(args: string[], options: DockerCallOptions = {}): Promise<DockerResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    if (options.logged) this.log?.write(`[command]${this.command} ${args.join(' ')}\n`)
    return new Promise(resolve => {
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      let timedOut = false
      let settled = false
      let spawnError: string | undefined
      const finish = (code: number): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.running.delete(child)
        const bytes = Buffer.concat(stdout)
        const tail = timedOut ? `docker ${args[0]} timed out after ${timeoutMs} ms` : (spawnError ?? '')
        resolve({ code, stdout: bytes.toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') + tail, bytes, timedOut, ...(spawnError ? { spawnError } : {}) })
      }
      const child = spawn(this.command, args, { env: { ...this.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] })
      this.running.add(child)
      const timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, timeoutMs)
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk)
        if (options.logged) this.log?.write(chunk)
      })
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk)
        if (options.logged) this.log?.write(chunk)
      })
      child.on('error', error => {
        spawnError = error.message
        finish(-1)
      })
      child.on('close', code => finish(timedOut ? -1 : (code ?? -1)))
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

  /**
   * Whether an engine answers, and why not: `docker version` runs once per Docker and every caller (each build, the
   * drop-privileges check, verify and its network holder) gets that answer; a run does not wait for an engine to appear.
   */
  serverVersion(): Promise<ServerVersion> {
    this.version ??= this.askVersion()
    return this.version
  }

  private async askVersion(): Promise<ServerVersion> {
    const result = await this.run(['version', '--format', '{{.Server.Version}} {{.Server.Arch}}'], { timeoutMs: 30_000 })
    const said = { stderr: lastLine(result.stderr), code: result.code }
    if (result.spawnError) return { ok: false, reason: this.notRunnable(result), ...said }
    if (result.code !== 0) return { ok: false, reason: lastLine(result.stderr, 'no output'), ...said }
    const [version = '', architecture = ''] = result.stdout.trim().split(/\s+/)
    return { ok: true, version, architecture }
  }

  /**
   * The first of `commands` the image has on its PATH, found by running its own /bin/sh (pulling the image when the
   * engine lacks it); `none` when it has none of them, `no-shell` when it has no /bin/sh, `cannot-run` when the image
   * is another CPU's and this machine cannot run it.
   */
  async findCommand(image: string, commands: string[], platform: string): Promise<FoundCommand> {
    const probe = commands.map(command => `command -v ${command}`).join(' || ')
    const result = await this.must(['run', '--rm', '--platform', platform, '--user', '0', '--entrypoint', '/bin/sh', image, '-c', probe], `docker run of ${image}`, true)
    if (result.code === 0) return result.stdout.trim().split('\n')[0]
    if (/exec format error/i.test(result.stderr)) return 'cannot-run'
    if (/no such file|not found in \$PATH|executable file not found/i.test(result.stderr)) return 'no-shell'
    if (result.code === 1 || result.code === 127) return 'none'
    throw new DockerError(`docker run of ${image} failed: ${lastLine(result.stderr, 'no output')}`)
  }

  /** `docker image inspect`; undefined when the engine does not have the image. */
  async inspect(reference: string): Promise<InspectEntry | undefined> {
    const result = await this.must(['image', 'inspect', reference], 'docker image inspect', true)
    if (result.code !== 0) {
      if (/no such (image|object)/i.test(result.stderr)) return undefined
      throw new DockerError(`docker image inspect failed: ${lastLine(result.stderr, 'no output')}`)
    }
    return (JSON.parse(result.stdout) as InspectEntry[])[0]
  }

  async pull(reference: string, platform?: string): Promise<void> {
    const result = await this.must(['pull', '--quiet', ...(platform ? ['--platform', platform] : []), reference], 'docker pull', true)
    if (result.code !== 0) throw new ImageError(reference, `not found locally and docker pull failed: ${lastLine(result.stderr, 'no output')}`)
  }

  /** Builds `dockerfile` (which needs no build context) for `platform` (`linux/arm64`) and tags it. */
  async build(dockerfile: string, tag: string, platform: string): Promise<void> {
    const context = await mkdtemp(join(tmpdir(), 'lacework-fargate-build-'))
    try {
      await writeFile(join(context, 'Dockerfile'), dockerfile)
      const result = await this.must(['build', '--platform', platform, '--tag', tag, context], 'docker build')
      if (result.code !== 0) {
        // The legacy builder colours the RUN step's stderr; the colour codes would hide the marker.
        // eslint-disable-next-line no-control-regex -- ANSI escape sequences start with ESC
        const output = `${result.stdout}\n${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, '')
        // A line the RUN step printed starts with the marker (after BuildKit's "#7 0.42 " prefix); the echoed RUN
        // command and the builder's error line only contain it.
        const printed = new RegExp(`^\\s*(?:#\\d+\\s+[\\d.]+\\s+)?${FAILURE_MARKER}\\s*(.+)$`)
        const cause = output.split('\n').map(line => printed.exec(line)?.[1]).filter(Boolean).pop()
        throw new DockerError(`docker build of ${tag} failed: ${cause ?? lastLine(output, 'no output')}`, tail(output, 15))
      }
    } finally {
      await rm(context, { recursive: true, force: true })
    }
  }

  /** Pushes `tag` and returns the digest the registry stored it under. */
  async push(tag: string): Promise<string> {
    const result = await this.must(['push', tag], 'docker push')
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(result.stdout)?.[1]
    if (result.code !== 0 || !digest) {
      throw new DockerError(`docker push of ${tag} failed: ${lastLine(result.stderr || result.stdout, 'no output')}`, tail(`${result.stdout}\n${result.stderr}`, 15))
    }
    return digest
  }

  /** Runs a command whose failure to start at all is an error (the image work needs the engine's client). */
  private async must(args: string[], what: string, quiet = false): Promise<DockerResult> {
    const result = await this.run(args, { logged: !quiet })
    if (result.spawnError) throw new DockerError(this.notRunnable(result))
    if (result.timedOut) throw new DockerError(`${what} did not finish within ${DEFAULT_TIMEOUT_MS / 60_000} minutes`)
    return result
  }

  private notRunnable(result: DockerResult): string {
    return `cannot run ${this.command}: ${result.spawnError}; install Docker or put it on PATH`
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
