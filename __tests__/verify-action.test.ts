import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction } from './support/action.js'
import { IMAGES, REGISTRY, requireServices } from './support/test-env.js'
import { buildFixture } from './verify/support.js'

// `verify: true` through the bundled action: the rewritten task is started locally before anything is written.

const TOKEN = 'verifyActionToken_0123456789'

beforeAll(requireServices)

function plain(example: string, image: string): string {
  const td = JSON.parse(readFileSync(join(ROOT, 'examples', example), 'utf8'))
  td.containerDefinitions[0].image = image
  const file = join(mkdtempSync(join(tmpdir(), 'lwf-verify-action-')), 'task.json')
  writeFileSync(file, JSON.stringify(td, null, 2))
  return file
}

function verifyRun(file: string, inputs: Record<string, string>): ReturnType<typeof runAction> & { summary: string } {
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'lwf-verify-summary-')), 'summary.md')
  writeFileSync(summaryFile, '')
  const run = runAction({ 'task-definition': file, verify: 'true', 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN, ...inputs }, { GITHUB_STEP_SUMMARY: summaryFile })
  return { ...run, summary: readFileSync(summaryFile, 'utf8') }
}

it.each([
  ['root-sidecar', 'nginx-root.json', IMAGES.nginx, {}],
  ['nonroot-sidecar', 'nginx-nonroot.json', IMAGES.unprivileged, { 'target-image': `${REGISTRY}/lwf-verify-action/sudo` }],
  ['root-embedded', 'nginx-root.json', IMAGES.nginx, { mode: 'embedded', 'target-image': `${REGISTRY}/lwf-verify-action/root-embedded` }],
  ['nonroot-embedded', 'nginx-nonroot.json', IMAGES.unprivileged, { mode: 'embedded', 'target-image': `${REGISTRY}/lwf-verify-action/nonroot-embedded` }],
  ['nonroot-as-root-sidecar', 'nginx-nonroot.json', IMAGES.unprivileged, { 'non-root-strategy': 'run-as-root' }],
  ['nonroot-drop-sidecar', 'nginx-nonroot.json', IMAGES.unprivileged, { 'non-root-strategy': 'drop-privileges' }]
])('%s verifies green, and the report is in the summary', (pattern, example, image, inputs) => {
  const run = verifyRun(plain(example, image), inputs as Record<string, string>)
  if (run.status !== 0) throw new Error(run.stdout)
  expect(run.outputs.pattern).toBe(`nginx=${pattern}`)
  expect(run.summary).toContain('Verification of')
  expect(run.summary).toContain('it starts')
  expect(run.summary).toMatch(/agent runs as root/)
})

it('a task that would not start fails the step, and writes no task definition', () => {
  // run-as-root would work; forcing the container back to user 101 makes the agent script refuse (exit 244).
  const file = plain('nginx-nonroot.json', IMAGES.unprivileged)
  const td = JSON.parse(readFileSync(file, 'utf8'))
  td.containerDefinitions[0].entryPoint = ['/var/lib/lacework-backup/lacework-sidecar.sh', '/docker-entrypoint.sh']
  td.containerDefinitions[0].command = ['nginx', '-g', 'daemon off;']
  writeFileSync(file, JSON.stringify(td, null, 2))
  const run = verifyRun(file, {})
  expect(run.status).toBe(1)
  const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toContain('exited 244')
  expect(errors[0]).toContain('it needs root')
  expect(run.outputs['task-definition']).toBeUndefined()
  expect(run.summary).toContain('it would not start')
})

it('a read-only root filesystem without writable agent paths is caught', () => {
  const file = plain('nginx-root.json', IMAGES.nginx)
  const td = JSON.parse(readFileSync(file, 'utf8'))
  td.containerDefinitions[0].readonlyRootFilesystem = true
  writeFileSync(file, JSON.stringify(td, null, 2))
  const run = verifyRun(file, {})
  expect(run.status).toBe(1)
  expect(run.stdout).toContain('::warning file=')
  const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toContain('readonlyRootFilesystem: the agent could not write /var/lib/lacework')
})

it('verify with dry-run is refused', () => {
  const run = verifyRun(plain('nginx-root.json', IMAGES.nginx), { 'dry-run': 'true' })
  expect(run.status).toBe(1)
  expect(run.stdout).toContain('::error::input verify: starts the built images, so it cannot run with dry-run')
})

describe('the broken cases, through the action', () => {
  function task(example: string, change: (td: { containerDefinitions: Record<string, unknown>[] }) => void): string {
    const file = plain(example, IMAGES.nginx)
    const td = JSON.parse(readFileSync(file, 'utf8'))
    change(td)
    writeFileSync(file, JSON.stringify(td, null, 2))
    return file
  }
  const failure = (run: ReturnType<typeof verifyRun>): string => {
    expect(run.status).toBe(1)
    expect(run.outputs['task-definition']).toBeUndefined()
    const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
    expect(errors).toHaveLength(1)
    return errors[0]
  }

  it('an image without /bin/sh', () => {
    const noShell = buildFixture('busybox-no-sh', IMAGES.busybox)
    const file = task('nginx-nonroot.json', td => {
      td.containerDefinitions[0].image = noShell
    })
    expect(failure(verifyRun(file, { 'non-root-strategy': 'run-as-root' }))).toMatch(/image has no \/bin\/sh: the agent script cannot run in nginx/)
  })

  it('a sidecar whose command exits 1', () => {
    const file = task('nginx-root.json', td => {
      td.containerDefinitions.push({ name: 'datacollector-sidecar', image: IMAGES.agent, essential: false, command: ['/bin/sh', '-c', 'exit 1'] })
    })
    expect(failure(verifyRun(file, {}))).toContain('sidecar datacollector-sidecar exited 1: a SUCCESS dependency must exit 0')
  })

  it("the seed's form, whose app is not exec'd and never gets the stop signal", () => {
    const seedSudo = buildFixture('nginx-unprivileged-seed-sudo', IMAGES.unprivileged)
    const file = join(mkdtempSync(join(tmpdir(), 'lwf-verify-seed-')), 'task.json')
    const td = JSON.parse(readFileSync(join(ROOT, 'examples/seed/nginx-nonroot-sidecar.json'), 'utf8'))
    Object.assign(td.containerDefinitions[0], { image: seedSudo, stopTimeout: 3, portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }] })
    writeFileSync(file, JSON.stringify(td, null, 4))
    expect(failure(verifyRun(file, {}))).toContain("the app is not PID 1's exec'd successor")
  })

  it('an unprivileged nginx forced to port 80', () => {
    const file = task('nginx-nonroot.json', td => {
      Object.assign(td.containerDefinitions[0], {
        image: IMAGES.unprivileged,
        command: ['/bin/sh', '-c', "sed 's/listen 8080/listen 80/' /etc/nginx/nginx.conf >/tmp/nginx-80.conf && exec nginx -c /tmp/nginx-80.conf -g 'daemon off;'"],
        portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }]
      })
    })
    expect(failure(verifyRun(file, { 'target-image': `${REGISTRY}/lwf-verify-action/port-80` }))).toContain('nginx could not bind port 80 as uid 101')
  })
})

// Every source verifies: what is started is the task as ECS would register it, with a template's intrinsic image
// worked out for the start.
describe('verify for every source', () => {
  function write(name: string, text: string): string {
    const file = join(mkdtempSync(join(tmpdir(), 'lwf-verify-source-')), name)
    writeFileSync(file, text)
    return file
  }

  it('a Terraform container-definitions array, root-sidecar', () => {
    const containers = [{ name: 'nginx', image: IMAGES.nginx, essential: true, memory: 256, portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }] }]
    const run = verifyRun(write('containers.json', `${JSON.stringify(containers, null, 2)}\n`), {})
    if (run.status !== 0) throw new Error(run.stdout)
    expect(run.outputs.pattern).toBe('nginx=root-sidecar')
    expect(run.summary).toContain('it starts')
  })

  it('a CloudFormation template whose Image is an Fn::Sub of a parameter, root-sidecar and nonroot-sidecar', () => {
    const template = (image: string): string => `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Registry:
    Type: String
    Default: ${REGISTRY}
Resources:
  WebTask:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: web
      Cpu: '256'
      Memory: '512'
      NetworkMode: awsvpc
      RequiresCompatibilities: [FARGATE]
      ContainerDefinitions:
        - Name: nginx
          Image: !Sub '\${Registry}/${image}'
          Essential: true
`
    const root = verifyRun(write('web.yaml', template('lwf-test/nginx:1.23.1')), {})
    if (root.status !== 0) throw new Error(root.stdout)
    expect(root.outputs.pattern).toBe('nginx=root-sidecar')
    expect(root.summary).toContain('it starts')
    const nonRoot = verifyRun(write('web.yaml', template('lwf-test/nginx-unprivileged:1.23.1')), { 'target-image': `${REGISTRY}/lwf-verify-action/template-sudo` })
    if (nonRoot.status !== 0) throw new Error(nonRoot.stdout)
    expect(nonRoot.outputs.pattern).toBe('nginx=nonroot-sidecar')
    expect(nonRoot.summary).toContain('it starts')
  })
})
