import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Docker } from '../../../src/adapters/docker/docker.js'
import { ensurePauseImage, pauseProgram } from '../../../src/verify/pause-image.js'
import { verifyTask } from '../../../src/verify/verify-task.js'
import { digestOf } from '../../../src/core/digest.js'
import type { TaskDefinition } from '../../../src/core/task-definition.js'

// `docker version` is asked once per Docker, whoever asks: the wrapper driven by a fake docker command (a shell
// script that logs its arguments, one line per spawn), so every spawn is counted without an engine.

let dir: string
let log: string

/** A docker that answers `version` (or fails it like a client without an engine) and succeeds at anything else. */
function fakeDocker(version: { stdout: string } | { stderr: string; code: number }): string {
  const command = join(dir, `docker-${Math.random().toString(36).slice(2)}`)
  const answer = 'stdout' in version ? `printf '%s\\n' '${version.stdout}'` : `printf '%s\\n' '${version.stderr}' >&2; exit ${version.code}`
  writeFileSync(command, `#!/bin/sh\nprintf '%s\\n' "$*" >> "$FAKE_DOCKER_LOG"\nif [ "$1" = version ]; then ${answer}; fi\nexit 0\n`)
  chmodSync(command, 0o755)
  return command
}

const spawns = (): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean)
const versionSpawns = (): number => spawns().filter(line => line.startsWith('version ')).length
const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, FAKE_DOCKER_LOG: log })
const clock = { now: () => 0, sleep: async () => undefined }
const definition = { family: 'one', containerDefinitions: [{ name: 'app', image: 'busybox' }] } as unknown as TaskDefinition

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwf-docker-version-'))
  log = join(dir, 'spawns.log')
  writeFileSync(log, '')
})

afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('Docker.serverVersion', () => {
  test('one spawn per Docker, however many ask and whether they ask at once or later', async () => {
    const docker = new Docker(undefined, fakeDocker({ stdout: '24.0.7 arm64' }), env())
    const answers = await Promise.all([docker.serverVersion(), docker.serverVersion(), docker.serverVersion()])
    answers.push(await docker.serverVersion())
    for (const answer of answers) expect(answer).toEqual({ ok: true, version: '24.0.7', architecture: 'arm64' })
    expect(spawns()).toEqual(['version --format {{.Server.Version}} {{.Server.Arch}}'])
    // Another Docker asks for itself.
    await new Docker(undefined, fakeDocker({ stdout: '24.0.7 arm64' }), env()).serverVersion()
    expect(versionSpawns()).toBe(2)
  })

  test("an engine that does not answer: the reason, docker's own last line and exit code, kept too", async () => {
    const docker = new Docker(undefined, fakeDocker({ stderr: 'Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?', code: 1 }), env())
    const first = await docker.serverVersion()
    expect(first).toEqual({
      ok: false,
      reason: 'Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?',
      stderr: 'Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?',
      code: 1
    })
    expect(await docker.serverVersion()).toBe(first)
    expect(versionSpawns()).toBe(1)
  })

  test('a docker that cannot be started: the same answer every time, from one attempt', async () => {
    const docker = new Docker(undefined, join(dir, 'no-such-docker'), env())
    const [a, b] = await Promise.all([docker.serverVersion(), docker.serverVersion()])
    expect(a).toBe(b)
    expect(a).toEqual({ ok: false, reason: `cannot run ${join(dir, 'no-such-docker')}: spawn ${join(dir, 'no-such-docker')} ENOENT; install Docker or put it on PATH`, stderr: `spawn ${join(dir, 'no-such-docker')} ENOENT`, code: -1 })
  })
})

describe('verify and its network holder ask the same Docker', () => {
  test('verify after a build step has asked: no second docker version, and the message it always gave', async () => {
    const docker = new Docker(undefined, fakeDocker({ stderr: 'Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?', code: 1 }), env())
    await docker.serverVersion()
    const report = await verifyTask(docker, definition, { timeoutSeconds: 5, expectations: [], clock })
    expect(report.failure).toBe(`verify needs a Docker engine and none answers (${docker.command} version: Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?)`)
    // A second task definition verified in the same run asks nothing again.
    await verifyTask(docker, definition, { timeoutSeconds: 5, expectations: [], clock })
    expect(spawns()).toEqual(['version --format {{.Server.Version}} {{.Server.Arch}}'])
  })

  test('no docker command: the message names the spawn error, as before', async () => {
    const docker = new Docker(undefined, '/nonexistent/docker', env())
    const report = await verifyTask(docker, definition, { timeoutSeconds: 5, expectations: [], clock })
    expect(report.failure).toBe('verify needs a Docker engine and none answers (/nonexistent/docker version: spawn /nonexistent/docker ENOENT)')
  })

  test('an exit without stderr: the exit code is said', async () => {
    const docker = new Docker(undefined, fakeDocker({ stderr: '', code: 3 }), env())
    const report = await verifyTask(docker, definition, { timeoutSeconds: 5, expectations: [], clock })
    expect(report.failure).toBe(`verify needs a Docker engine and none answers (${docker.command} version: exit 3)`)
  })

  test('the network holder is made for the architecture the one docker version gave', async () => {
    const docker = new Docker(undefined, fakeDocker({ stdout: '24.0.7 arm64' }), env())
    await docker.serverVersion()
    const tag = await ensurePauseImage(docker)
    expect(tag).toBe(`lacework-fargate-verify/pause:${digestOf(pauseProgram('aarch64')).slice(7, 23)}`)
    // The holder is found in the engine (the fake says every image exists): version once, then the inspect.
    expect(spawns()).toEqual(['version --format {{.Server.Version}} {{.Server.Arch}}', `image inspect --format {{.Id}} ${tag}`])
  })
})
