import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction } from './support/action.js'
import { IMAGES, REGISTRY, requireServices } from './support/test-env.js'

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
