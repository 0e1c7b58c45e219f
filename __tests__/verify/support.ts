import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Docker } from '../../src/adapters/docker/docker.js'
import type { TaskDefinition } from '../../src/core/task-definition.js'
import type { VerifyOptions } from '../../src/verify/types.js'
import { verifyTask } from '../../src/verify/verify-task.js'
import { VERIFY_LABEL } from '../../src/verify/local-task.js'
import { renderVerifyReport } from '../../src/verify/report.js'
import type { LocalTaskDefinition, VerifyReport } from '../../src/verify/types.js'
import { ROOT, runCli } from '../support/action.js'
import { DOCKER_ENV, IMAGES, REGISTRY, docker, dockerStatus } from '../support/test-env.js'

export const TOKEN = 'verifyTestToken_0123456789abcdef'
export const SECRET_ARN = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
/** The environment verifyTask runs docker with: the test engine. */
export const VERIFY_ENV: NodeJS.ProcessEnv = { ...process.env, ...DOCKER_ENV }

const work = mkdtempSync(join(tmpdir(), 'lwf-verify-test-'))

export interface WrapOptions {
  plain: 'nginx-root.json' | 'nginx-nonroot.json'
  image: string
  mode?: 'sidecar' | 'embedded'
  strategy?: 'sudo' | 'run-as-root'
  /** The token as an SSM secret (placeholder at verify time) or as plaintext. */
  token?: 'secret' | 'plain'
  /** Repository under 127.0.0.1:5000/lwf-verify/ for the patterns that build. */
  target: string
}

/** A plain example task definition run through the bundled CLI, as a user's workflow would. */
export function wrap(options: WrapOptions): LocalTaskDefinition {
  const plain = JSON.parse(readFileSync(join(ROOT, 'examples', options.plain), 'utf8')) as LocalTaskDefinition
  plain.containerDefinitions[0].image = options.image
  const input = join(work, `${options.target}-in.json`)
  const output = join(work, `${options.target}-out.json`)
  writeFileSync(input, JSON.stringify(plain, null, 4))
  const run = runCli(
    [
      '--task-definition',
      input,
      '--mode',
      options.mode ?? 'sidecar',
      '--non-root-strategy',
      options.strategy ?? 'sudo',
      '--agent-image',
      IMAGES.agent,
      ...(options.token === 'plain' ? ['--lacework-access-token', TOKEN] : ['--lacework-access-token-secret', SECRET_ARN]),
      '--lacework-server-url',
      'https://api.fra.lacework.net',
      '--target-image',
      `${REGISTRY}/lwf-verify/${options.target}`,
      '--output',
      output
    ],
    DOCKER_ENV
  )
  if (run.status !== 0) throw new Error(`the CLI failed (${run.status}):\n${run.stderr}`)
  return JSON.parse(readFileSync(output, 'utf8')) as LocalTaskDefinition
}

/** Builds a fixture image of __tests__/fixtures/images/<name> on top of `base`; the engine's cache makes repeats quick. */
export function buildFixture(name: string, base: string): string {
  const tag = `${REGISTRY}/lwf-verify/${name}:test`
  docker(['build', '--quiet', '--build-arg', `BASE=${base}`, '--tag', tag, join(ROOT, '__tests__/fixtures/images', name)])
  return tag
}

/** Every container, network and volume that carries the run's label. */
export function leftovers(label: string): { containers: string[]; networks: string[]; volumes: string[] } {
  const filter = ['--filter', `label=${VERIFY_LABEL}=${label}`]
  const list = (args: string[]): string[] => docker(args).split('\n').filter(Boolean)
  return {
    containers: list(['ps', '--all', '--quiet', ...filter]),
    networks: list(['network', 'ls', '--quiet', ...filter]),
    volumes: list(['volume', 'ls', '--quiet', ...filter])
  }
}

export const NOTHING = { containers: [], networks: [], volumes: [] }

/** The names of the volumes mounted in the run's containers now (anonymous ones included). */
export function mountedVolumes(label: string): string[] {
  const ids = docker(['ps', '--all', '--quiet', '--filter', `label=${VERIFY_LABEL}=${label}`]).split('\n').filter(Boolean)
  if (!ids.length) return []
  // A container may go between the two commands (the run is cleaning up): take what inspect still finds.
  const names = dockerStatus(['inspect', '--format', '{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}', ...ids]).stdout
  return [...new Set(names.split(/\s+/).filter(Boolean))]
}

export function volumeExists(name: string): boolean {
  return docker(['volume', 'ls', '--quiet', '--filter', `name=^${name}$`]).trim() !== ''
}

/** A unique label per test: runs of parallel test files never see each other's containers. */
export function uniqueLabel(name: string): string {
  return `t-${name}-${process.pid}-${Date.now().toString(36)}`
}

/** Fails with the whole report when it is not green. */
export function expectGreen(report: VerifyReport): void {
  if (!report.ok) throw new Error(`verification failed:\n${renderVerifyReport(report)}`)
}

/** Runs the verifier with the real Docker client against the test engine (or `docker`/`env` given), real time. */
export function verifyLocally(definition: TaskDefinition, options: VerifyOptions & { docker?: string; env?: NodeJS.ProcessEnv }): Promise<VerifyReport> {
  const { docker: command = 'docker', env = VERIFY_ENV, ...rest } = options
  const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)) }
  return verifyTask(new Docker(undefined, command, env), definition, { ...rest, clock })
}
