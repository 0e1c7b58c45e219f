import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AGENT_SCRIPT } from '../../src/core/agent.js'
import type { LocalTaskDefinition, TaskContainer, VerifyExpectation, VerifyReport } from '../../src/verify/types.js'
import { ROOT } from '../support/action.js'
import { IMAGES, requireServices } from '../support/test-env.js'
import { NOTHING, TOKEN, VERIFY_ENV, buildFixture, leftovers, uniqueLabel, wrap, verifyLocally } from './support.js'
import { patternNamed } from '../support/patterns.js'

// Each way a wrap goes wrong after deploy is caught locally, with one line that says what to change.

beforeAll(requireServices)

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T
const app = (definition: LocalTaskDefinition): TaskContainer => definition.containerDefinitions[0]

async function verify(definition: LocalTaskDefinition, name: string, expectation: Partial<VerifyExpectation> = {}): Promise<VerifyReport> {
  const label = uniqueLabel(name)
  const report = await verifyLocally(definition, {
    timeoutSeconds: 45,
    settleSeconds: 2,
    expectations: [{ container: 'nginx', pattern: patternNamed('root-sidecar'), appUser: '0', ...expectation }],
    label,
    env: VERIFY_ENV
  })
  // Failing runs clean up as well as green ones.
  expect(leftovers(label)).toEqual(NOTHING)
  expect(report.ok).toBe(false)
  return report
}

describe('the agent script run as non-root', () => {
  it('user "101" put on a run-as-root wrap, the script first', async () => {
    const definition = clone(wrap({ plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, strategy: 'run-as-root', target: 'broken-nonroot-as-root' }))
    expect(app(definition).entryPoint?.[0]).toBe(AGENT_SCRIPT)
    app(definition).user = '101'
    const report = await verify(definition, 'user-101', { appUser: '101' })
    expect(report.failure).toBe('the agent script ran as uid 101 and exited 244 in nginx: it needs root — use the sudo or run-as-root strategy')
    expect(report.checks).toContainEqual({ container: 'nginx', check: 'running', ok: false, evidence: expect.stringContaining('exited 244') })
  })

  it('sudo dropped from the non-root wrapper', async () => {
    const definition = clone(wrap({ plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, target: 'nonroot-sidecar' }))
    const entryPoint = app(definition).entryPoint as string[]
    expect(entryPoint[2]).toContain('sudo -n ')
    entryPoint[2] = entryPoint[2].replace('sudo -n ', '')
    const report = await verify(definition, 'no-sudo', { appUser: '101' })
    expect(report.failure).toBe('the agent script ran as uid 101 and exited 244 in nginx: it needs root — use the sudo or run-as-root strategy')
  })
})

describe('a busybox image without /bin/sh', () => {
  let noShell: string
  beforeAll(() => {
    noShell = buildFixture('busybox-no-sh', IMAGES.busybox)
  })

  it('run as root with the agent script as entryPoint (#!/bin/sh)', async () => {
    const definition = clone(wrap({ plain: 'nginx-nonroot.json', image: noShell, strategy: 'run-as-root', target: 'busybox-no-sh' }))
    expect(app(definition)).toMatchObject({ user: 'root', entryPoint: [AGENT_SCRIPT], command: ['httpd', '-f', '-p', '8080'] })
    const report = await verify(definition, 'no-sh-script')
    expect(report.failure).toMatch(/^image has no \/bin\/sh: the agent script cannot run in nginx \(exited 1 after [\d.]+ s: exec \/var\/lib\/lacework-backup\/lacework-sidecar.sh: no such file or directory\); use an image with a shell/)
  })

  it('behind the non-root sh -c wrapper', async () => {
    const definition = clone(wrap({ plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, target: 'nonroot-sidecar' }))
    app(definition).image = noShell
    app(definition).entryPoint = [...(app(definition).entryPoint as string[]).slice(0, 3), 'httpd', '-f', '-p', '8080']
    const report = await verify(definition, 'no-sh-wrapper', { appUser: '1000' })
    expect(report.failure).toMatch(/^image has no \/bin\/sh: the agent script cannot run in nginx \(could not start: exec: "\/bin\/sh": stat \/bin\/sh: no such file or directory\)/)
    expect(report.checks).toContainEqual({ container: 'nginx', check: 'start', ok: false, evidence: expect.stringContaining('/bin/sh') })
  })
})

it('a sidecar whose command exits 1', async () => {
  const definition = clone(wrap({ plain: 'nginx-root.json', image: IMAGES.nginx, target: 'root-sidecar' }))
  definition.containerDefinitions[1].command = ['/bin/sh', '-c', 'echo cannot populate the agent volume >&2; exit 1']
  const report = await verify(definition, 'sidecar-exit-1')
  expect(report.failure).toBe('sidecar datacollector-sidecar exited 1: a SUCCESS dependency must exit 0, so nginx never started (log: cannot populate the agent volume)')
  expect(report.checks).toContainEqual({ container: 'nginx', check: 'start', ok: false, evidence: expect.stringContaining('never started') })
})

it("the seed's sh -c \"sudo -E … && /docker-entrypoint.sh …\": the app is not exec'd and never gets the stop signal", async () => {
  const seedSudo = buildFixture('nginx-unprivileged-seed-sudo', IMAGES.unprivileged)
  const definition = JSON.parse(readFileSync(join(ROOT, 'examples/seed/nginx-nonroot-sidecar.json'), 'utf8')) as LocalTaskDefinition
  expect(app(definition).entryPoint?.[2]).toBe(`sudo -E ${AGENT_SCRIPT} && /docker-entrypoint.sh nginx -g 'daemon off;'`)
  app(definition).image = seedSudo
  app(definition).environment = [{ name: 'LaceworkAccessToken', value: TOKEN }]
  // The seed maps 80 for an nginx that listens on 8080; map what it listens on, so only the stop is wrong.
  app(definition).portMappings = [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }]
  app(definition).stopTimeout = 3
  definition.containerDefinitions[1].image = IMAGES.agent
  const report = await verify(definition, 'seed-not-execd', { appUser: '101' })
  const checks = Object.fromEntries(report.checks.filter(check => check.container === 'nginx').map(check => [check.check, check]))
  // Everything else works: the agent runs as root and nginx serves as 101 …
  expect(checks['agent runs as root'].ok).toBe(true)
  expect(checks['port 8080/tcp'].ok).toBe(true)
  expect(checks['app user'].evidence).toMatch(/^PID 1 is sh \(uid 101\); children: nginx/)
  // … but the stop signal goes to the shell.
  expect(checks.stop).toMatchObject({ ok: false, evidence: expect.stringMatching(/^SIGQUIT had no effect: killed after \d+\.\d s \(exit 137\); PID 1 was sh, uid 101$/) })
  expect(report.failure).toBe(
    `nginx did not stop within 3 s of SIGQUIT and was killed: the app is not PID 1's exec'd successor (PID 1 was sh, uid 101), so it never got SIGQUIT: exec it (sh -c '… && exec "$0" "$@"' ARGV…)`
  )
})

it('an unprivileged nginx forced to port 80', async () => {
  const definition = clone(wrap({ plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, target: 'nonroot-sidecar' }))
  // Keep the sudo wrapper, replace the app's argv: the same nginx with `listen 80`.
  app(definition).entryPoint = [
    ...(app(definition).entryPoint as string[]).slice(0, 3),
    '/bin/sh',
    '-c',
    "sed 's/listen 8080/listen 80/' /etc/nginx/nginx.conf >/tmp/nginx-80.conf && exec nginx -c /tmp/nginx-80.conf -g 'daemon off;'"
  ]
  app(definition).portMappings = [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }]
  const report = await verify(definition, 'port-80', { appUser: '101' })
  expect(report.failure).toBe('nginx could not bind port 80 as uid 101: on Fargate only root may bind ports below 1024; make the app listen on a port ≥ 1024 (e.g. 8080) and map that port')
  expect(report.checks).toContainEqual({ container: 'nginx', check: 'running', ok: false, evidence: expect.stringContaining('bind() to 0.0.0.0:80 failed (13: Permission denied)') })
})

it('readonlyRootFilesystem without writable agent paths', async () => {
  const definition = clone(wrap({ plain: 'nginx-root.json', image: IMAGES.nginx, target: 'root-sidecar' }))
  app(definition).readonlyRootFilesystem = true
  const report = await verify(definition, 'read-only')
  expect(report.failure).toMatch(/^nginx: readonlyRootFilesystem: the agent could not write \/var\/lib\/lacework; mount writable volumes at \/var\/lib\/lacework, \/var\/log\/lacework and \/tmp \(/)
})
