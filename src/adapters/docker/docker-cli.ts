import { getExecOutput } from '@actions/exec'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { BUILD_FAILURE_MARKER } from '../../core/dockerfile.js'
import { DockerError, ImageError } from '../../core/errors.js'
import type { InspectEntry } from '../../core/image-facts.js'
import { lastLine as lastLineOf } from '../../core/text.js'

interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** The docker command line, run with argument arrays only (never a shell), so no value is ever interpreted. */
export class DockerCli {
  constructor(
    /** Where build and push output goes: the job log, or stderr for the CLI whose stdout is the result. */
    private readonly log: Writable,
    private readonly command = 'docker'
  ) {}

  /** Whether an engine answers, and why not. */
  async serverVersion(): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
    let result: RunResult
    try {
      result = await this.run(['version', '--format', '{{.Server.Version}}'], { quiet: true })
    } catch (error) {
      return { ok: false, reason: (error as Error).message }
    }
    if (result.exitCode !== 0) return { ok: false, reason: lastLine(result.stderr) }
    return { ok: true, version: result.stdout.trim() }
  }

  /**
   * The first of `commands` the image has on its PATH, found by running its own /bin/sh (pulling the image when
   * the engine lacks it); `none` when it has none of them, `no-shell` when it has no /bin/sh.
   */
  async findCommand(image: string, commands: string[], platform: string): Promise<string | 'none' | 'no-shell' | 'cannot-run'> {
    const probe = commands.map(command => `command -v ${command}`).join(' || ')
    const result = await this.run(['run', '--rm', '--platform', platform, '--user', '0', '--entrypoint', '/bin/sh', image, '-c', probe], { quiet: true })
    if (result.exitCode === 0) return result.stdout.trim().split('\n')[0]
    // Another CPU's variant, without emulation on this machine.
    if (/exec format error/i.test(result.stderr)) return 'cannot-run'
    if (/no such file|not found in \$PATH|executable file not found/i.test(result.stderr)) return 'no-shell'
    if (result.exitCode === 1 || result.exitCode === 127) return 'none'
    throw this.engineError(`docker run of ${image}`, result)
  }

  /** `docker image inspect`; undefined when the engine does not have the image. */
  async inspect(reference: string): Promise<InspectEntry | undefined> {
    const result = await this.run(['image', 'inspect', reference], { quiet: true })
    if (result.exitCode !== 0) {
      if (/no such (image|object)/i.test(result.stderr)) return undefined
      throw this.engineError('docker image inspect', result)
    }
    return (JSON.parse(result.stdout) as InspectEntry[])[0]
  }

  async pull(reference: string, platform?: string): Promise<void> {
    const result = await this.run(['pull', '--quiet', ...(platform ? ['--platform', platform] : []), reference], { quiet: true })
    if (result.exitCode !== 0) throw new ImageError(reference, `not found locally and docker pull failed: ${lastLine(result.stderr)}`)
  }

  /** Builds `dockerfile` (which needs no build context) for `platform` (`linux/arm64`) and tags it. */
  async build(dockerfile: string, tag: string, platform: string): Promise<void> {
    const context = await mkdtemp(join(tmpdir(), 'lacework-fargate-build-'))
    try {
      await writeFile(join(context, 'Dockerfile'), dockerfile)
      const result = await this.run(['build', '--platform', platform, '--tag', tag, context])
      if (result.exitCode !== 0) {
        // The legacy builder colours the RUN step's stderr; the colour codes would hide the marker.
        // eslint-disable-next-line no-control-regex -- ANSI escape sequences start with ESC
        const output = `${result.stdout}\n${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, '')
        // A line the RUN step printed starts with the marker (after BuildKit's "#7 0.42 " prefix); the echoed
        // RUN command and the builder's error line only contain it.
        const printed = new RegExp(`^\\s*(?:#\\d+\\s+[\\d.]+\\s+)?${BUILD_FAILURE_MARKER}\\s*(.+)$`)
        const cause = output.split('\n').map(line => printed.exec(line)?.[1]).filter(Boolean).pop()
        const reason = cause ?? lastLine(output)
        throw new DockerError(`docker build of ${tag} failed: ${reason}`, tail(output, 15))
      }
    } finally {
      await rm(context, { recursive: true, force: true })
    }
  }

  /** Pushes `tag` and returns the digest the registry stored it under. */
  async push(tag: string): Promise<string> {
    const result = await this.run(['push', tag])
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(result.stdout)?.[1]
    if (result.exitCode !== 0 || !digest) {
      throw new DockerError(`docker push of ${tag} failed: ${lastLine(result.stderr || result.stdout)}`, tail(`${result.stdout}\n${result.stderr}`, 15))
    }
    return digest
  }

  private async run(args: string[], options: { quiet?: boolean } = {}): Promise<RunResult> {
    try {
      return await getExecOutput(this.command, args, {
        ignoreReturnCode: true,
        silent: options.quiet,
        outStream: this.log,
        errStream: this.log
      })
    } catch (error) {
      // @actions/exec throws when the executable is not on PATH.
      throw new DockerError(`cannot run ${this.command}: ${(error as Error).message.split('\n')[0]}; install Docker or put it on PATH`)
    }
  }

  private engineError(what: string, result: RunResult): DockerError {
    return new DockerError(`${what} failed: ${lastLine(result.stderr)}`)
  }
}

function lastLine(text: string): string {
  return lastLineOf(text, 'no output')
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
