import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TaskDefinition } from '../src/core/task-definition.js'
import { ROOT, runAction } from './support/action.js'
import { expectStartsLikeEcs } from './support/ecs-local.js'
import { IMAGES, REGISTRY, requireServices } from './support/test-env.js'

// With no docker on PATH (a self-hosted runner without a daemon): image facts come from the registry and the
// root-embedded image is assembled through it; only patterns that need a RUN step ask for an engine.

const TOKEN = 'noDaemonToken_0123456789ab'
const NO_DOCKER = { PATH: '/nonexistent' }

beforeAll(requireServices)

function plainFile(example: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lwf-nodaemon-')), 'task.json')
  writeFileSync(file, readFileSync(join(ROOT, 'examples', example), 'utf8'))
  return file
}

describe.each<{ pattern: string; example: string; image: string; inputs: Record<string, string>; port: number; sidecar: boolean }>([
  { pattern: 'root-sidecar', example: 'nginx-root.json', image: IMAGES.nginx, inputs: {}, port: 80, sidecar: true },
  { pattern: 'nonroot-as-root-sidecar', example: 'nginx-nonroot.json', image: IMAGES.unprivileged, inputs: { 'non-root-strategy': 'run-as-root' }, port: 8080, sidecar: true },
  { pattern: 'root-embedded', example: 'nginx-root.json', image: IMAGES.nginx, inputs: { mode: 'embedded' }, port: 80, sidecar: false }
])('$pattern without docker', testCase => {
  it('plans, builds through the registry, writes the task definition, and the result starts', async () => {
    const target = `${REGISTRY}/lwf-nodaemon/${testCase.pattern}`
    const run = runAction(
      { 'task-definition': plainFile(testCase.example), image: testCase.image, 'target-image': target, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN, ...testCase.inputs },
      NO_DOCKER
    )
    if (run.status !== 0) throw new Error(run.stdout)
    expect(run.stdout).not.toContain('[command]')
    expect(run.outputs.pattern).toBe(`nginx=${testCase.pattern}`)
    const written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8')) as TaskDefinition
    if (!testCase.sidecar) expect(written.containerDefinitions[0].image).toMatch(new RegExp(`^${target}@sha256:[0-9a-f]{64}$`))
    await expectStartsLikeEcs(written, `lwf-nodaemon-${testCase.pattern}`, { containerName: 'nginx', port: testCase.port, appUid: 0, sudo: false, sidecar: testCase.sidecar })
  })
})

it('a pattern with a RUN step says in one line that it needs a Docker engine', () => {
  const file = plainFile('nginx-nonroot.json')
  const before = readFileSync(file, 'utf8')
  const run = runAction({ 'task-definition': file, image: IMAGES.unprivileged, 'target-image': `${REGISTRY}/lwf-nodaemon/sudo`, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN }, NO_DOCKER)
  expect(run.status).toBe(1)
  const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(/^::error::container nginx: pattern nonroot-sidecar needs a Docker engine to build its image \(a RUN step installs sudo\): cannot run docker: .*$/)
  expect(readFileSync(file, 'utf8')).toBe(before)
  expect(run.outputs).toEqual({})
})
