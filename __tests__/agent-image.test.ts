import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction } from './support/action.js'
import { IMAGES, registryDigest, requireServices } from './support/test-env.js'

// The agent image through the bundled action and the real registry: pinned by digest, its volume checked,
// its architecture compared with the task's.

const TOKEN = 'agentImageToken_0123456789'

beforeAll(requireServices)

function taskFile(change: (td: Record<string, unknown>) => void = () => {}): string {
  const td = JSON.parse(readFileSync(join(ROOT, 'examples/nginx-root.json'), 'utf8'))
  td.containerDefinitions[0].image = IMAGES.nginx
  change(td)
  const file = join(mkdtempSync(join(tmpdir(), 'lwf-agent-')), 'task.json')
  writeFileSync(file, JSON.stringify(td, null, 2))
  return file
}

it('is pinned to the digest its tag points at now', async () => {
  const run = runAction({ 'task-definition': taskFile(), 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN })
  expect(run.status).toBe(0)
  const written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8'))
  expect(written.containerDefinitions[1].image).toBe(`${IMAGES.agent}@${await registryDigest(IMAGES.agent)}`)
})

it('stays as written with pin-agent-image: false', () => {
  const run = runAction({ 'task-definition': taskFile(), 'agent-image': IMAGES.agent, 'pin-agent-image': 'false', 'lacework-access-token': TOKEN })
  expect(run.status).toBe(0)
  expect(JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8')).containerDefinitions[1].image).toBe(IMAGES.agent)
})

it('must declare a volume covering /var/lib/lacework-backup to serve as a sidecar', () => {
  const run = runAction({ 'task-definition': taskFile(), 'agent-image': IMAGES.nginx, 'lacework-access-token': TOKEN })
  expect(run.status).toBe(1)
  expect(run.stdout.split('\n').filter(line => line.startsWith('::error'))).toEqual([
    `::error::image ${IMAGES.nginx}: declares no VOLUME covering /var/lib/lacework-backup (it has none): volumesFrom would give the app nothing`
  ])
  expect(run.outputs).toEqual({})
})

it('on an ARM64 task without an arm64 variant: one error at runtimePlatform.cpuArchitecture, nothing written', () => {
  const file = taskFile(td => {
    td.runtimePlatform = { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' }
  })
  const run = runAction({ 'task-definition': file, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN })
  expect(run.status).toBe(1)
  const lines = readFileSync(file, 'utf8').split('\n')
  const line = lines.findIndex(text => text.includes('"cpuArchitecture"')) + 1
  const column = lines[line - 1].indexOf('"cpuArchitecture"') + 1
  expect(run.stdout.split('\n').filter(text => text.startsWith('::error'))).toEqual([
    `::error file=${file},line=${line},col=${column}::image ${IMAGES.agent}: has no linux/arm64 variant (it has linux/amd64), but the task runs on ARM64 (runtimePlatform.cpuArchitecture): ` +
      'the agent would never start; give agent-image an image with a linux/arm64 variant, or run the task on X86_64'
  ])
  expect(run.outputs).toEqual({})
  expect(existsSync(join(run.runnerTemp, 'lacework-fargate'))).toBe(false)
})

it('on an ARM64 task with a multi-platform agent: pinned to the index digest', async () => {
  const file = taskFile(td => {
    td.runtimePlatform = { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' }
  })
  const run = runAction({ 'task-definition': file, 'agent-image': IMAGES.multiAgent, 'lacework-access-token': TOKEN })
  expect(run.status).toBe(0)
  const written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8'))
  expect(written.containerDefinitions[1].image).toBe(`${IMAGES.multiAgent}@${await registryDigest(IMAGES.multiAgent)}`)
  // The single-platform app image cannot run on ARM64: said, not silently planned as if it could.
  expect(run.stdout).toContain(`is a linux/amd64 image, but the task runs on ARM64`)
})
