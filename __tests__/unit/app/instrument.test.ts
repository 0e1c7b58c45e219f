import { gunzipSync } from 'node:zlib'
import type { InputName } from '../../../src/app/context.js'
import type { GitHubRun } from '../../../src/app/host.js'
import { digestOf } from '../../../src/core/digest.js'
import type { ImageManifest } from '../../../src/core/oci.js'
import { readTar } from '../../../src/core/tar.js'
import { run } from '../../../src/main.js'
import { MemoryComments, MemoryDocker, MemoryFiles, MemoryHost, MemoryRegistry, fakeServices, imageConfig, layer } from '../../support/fakes.js'

// The orchestration, end to end in memory: the same `run` the action and the CLI call, with fakes for the files,
// the engine, the registry and GitHub. Expected values are written out here from the patterns' rules, not taken
// from a run.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const APP = 'reg.test/shop/app:1'
const AGENT = 'reg.test/lacework/datacollector:latest-sidecar'
const SECRET = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
const NGINX_CONFIG = { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'] }

function taskDefinition(extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ family: 'shop', containerDefinitions: [{ name: 'app', image: APP, essential: true, ...container }], ...extra }, null, 2)}\n`
}

/** A registry with the app (root nginx-like) and a conventional agent image (tree in a layer of its own). */
function registryWithAppAndAgent(): { registry: MemoryRegistry; agentDigest: string; baseLayers: Buffer[] } {
  const registry = new MemoryRegistry()
  const baseLayers = [layer([{ path: 'bin' }, { path: 'bin/sh', data: 'shell' }])]
  registry.addImage(APP, imageConfig(NGINX_CONFIG, baseLayers), baseLayers)
  const agentLayers = [layer([{ path: 'var' }, { path: 'var/lib' }, { path: 'var/lib/lacework-backup' }, { path: 'var/lib/lacework-backup/lacework-sidecar.sh', data: '#!/bin/sh\n' }])]
  const agentDigest = registry.addImage(AGENT, imageConfig({ Volumes: { '/var/lib/lacework-backup': {} }, Cmd: ['/bin/true'] }, agentLayers), agentLayers)
  return { registry, agentDigest, baseLayers }
}

function host(inputs: Partial<Record<InputName, string>>, gitHubRun?: GitHubRun): MemoryHost {
  return new MemoryHost({ 'task-definition': 'task.json', 'agent-image': AGENT, 'lacework-access-token-secret': SECRET, inspect: 'registry', ...inputs }, { outputFolder: 'out', gitHubRun })
}

describe('root-sidecar through the registry', () => {
  it('plans from the registry facts, pins the agent, writes the file and sets the outputs', async () => {
    const { registry, agentDigest } = registryWithAppAndAgent()
    const files = new MemoryFiles({ 'task.json': taskDefinition() })
    const h = host({})
    await run(h, fakeServices({ files, registry }))
    expect(h.errors).toEqual([])
    const written = JSON.parse(files.written.get('out/task.json') as string)
    expect(written.containerDefinitions[0]).toMatchObject({
      entryPoint: [SCRIPT, '/docker-entrypoint.sh'],
      command: ['nginx', '-g', 'daemon off;'],
      secrets: [{ name: 'LaceworkAccessToken', valueFrom: SECRET }],
      volumesFrom: [{ sourceContainer: 'datacollector-sidecar', readOnly: true }],
      dependsOn: [{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }]
    })
    // The task sets no memory: ECS needs one on every container, the sidecar gets a small reservation.
    expect(written.containerDefinitions[1]).toEqual({ essential: false, name: 'datacollector-sidecar', image: `${AGENT}@${agentDigest}`, memoryReservation: 32 })
    expect(h.outputs).toEqual({ 'task-definition': 'out/task.json', image: APP, pattern: 'app=root-sidecar', changed: 'true' })
    // One look-up of the app's facts; the summary carries the review.
    expect(registry.calls.filter(call => call.startsWith(`getImageConfig ${APP}`))).toHaveLength(1)
    expect(h.summaries.join('')).toContain('| app | root (default) | root-sidecar |')
  })
})

describe('root-embedded, daemonless', () => {
  it('with a one-layer agent, appends the agent tree as one new layer and runs the built image', async () => {
    const { registry, baseLayers } = registryWithAppAndAgent()
    const single = 'reg.test/vendor/agent:1'
    const agentLayer = layer([
      { path: 'bin' },
      { path: 'bin/busybox', data: 'ELF' },
      { path: 'var' },
      { path: 'var/lib' },
      { path: 'var/lib/lacework-backup' },
      { path: 'var/lib/lacework-backup/lacework-sidecar.sh', data: '#!/bin/sh\nexec "$@"\n' }
    ])
    registry.addImage(single, imageConfig({ Volumes: { '/var/lib/lacework-backup': {} } }, [agentLayer]), [agentLayer])
    const files = new MemoryFiles({ 'task.json': taskDefinition() })
    const docker = new MemoryDocker()
    const h = host({ mode: 'embedded', 'agent-image': single, 'target-image': 'reg.test/shop/app-lacework' })
    await run(h, fakeServices({ files, registry, docker }))
    expect(h.errors).toEqual([])
    expect(docker.builds).toEqual([])
    const image = JSON.parse(files.written.get('out/task.json') as string).containerDefinitions[0].image as string
    expect(image).toMatch(/^reg\.test\/shop\/app-lacework@sha256:[0-9a-f]{64}$/)
    const manifest = (await registry.getManifest(image)).json as ImageManifest
    expect(manifest.layers.slice(0, 1).map(l => l.digest)).toEqual(baseLayers.map(bytes => digestOf(bytes)))
    expect(manifest.layers).toHaveLength(2)
    const added = await registry.getBlob('reg.test/shop/app-lacework', manifest.layers[1].digest)
    expect(readTar(gunzipSync(added)).map(entry => entry.path)).toEqual(['var', 'var/lib', 'var/lib/lacework-backup', 'var/lib/lacework-backup/lacework-sidecar.sh'])
    const config = (await registry.getImageConfig(image)).config
    expect(config.config?.Entrypoint).toEqual([SCRIPT, '/docker-entrypoint.sh'])
    expect(h.infos).toContain(`agent image ${single} pinned to ${single}@${(await registry.getManifest(single)).digest}`)

    // The same inputs again: the derived tag is there, nothing is built or written to the registry.
    const again = host({ mode: 'embedded', 'agent-image': single, 'target-image': 'reg.test/shop/app-lacework' })
    const before = registry.calls.length
    await run(again, fakeServices({ files: new MemoryFiles({ 'task.json': taskDefinition() }), registry, docker }))
    expect(again.outputs.image).toBe(image)
    expect(registry.calls.slice(before).filter(call => /^(putManifest|uploadBlob|mountBlob)/.test(call))).toEqual([])
  })
})

describe('nonroot-sidecar', () => {
  it('builds the sudo image with docker for the task platform and runs the pushed digest', async () => {
    const { registry } = registryWithAppAndAgent()
    registry.addImage('reg.test/shop/web:1', imageConfig({ ...NGINX_CONFIG, User: '101' }))
    const files = new MemoryFiles({ 'task.json': taskDefinition({}, { image: 'reg.test/shop/web:1' }) })
    const docker = new MemoryDocker({ ok: true, version: '28' })
    const h = host({ 'target-image': 'reg.test/shop/web-lacework' })
    await run(h, fakeServices({ files, registry, docker }))
    expect(h.errors).toEqual([])
    expect(docker.builds).toHaveLength(1)
    expect(docker.builds[0].platform).toBe('linux/amd64')
    expect(docker.builds[0].dockerfile).toContain(`#101 ALL=(root) NOPASSWD: ${SCRIPT} ""`)
    expect(docker.builds[0].dockerfile).toContain(`Defaults!${SCRIPT} secure_path=`)
    expect(docker.pushes).toEqual([docker.builds[0].tag])
    expect(h.outputs.image).toBe(`reg.test/shop/web-lacework@${digestOf(docker.builds[0].tag)}`)
    expect(h.outputs.pattern).toBe('app=nonroot-sidecar')
  })

  it('drop-privileges: an image with none of setpriv, su-exec, gosu is refused before any build', async () => {
    const { registry } = registryWithAppAndAgent()
    registry.addImage('reg.test/shop/web:1', imageConfig({ ...NGINX_CONFIG, User: '101' }))
    const files = new MemoryFiles({ 'task.json': taskDefinition({}, { image: 'reg.test/shop/web:1' }) })
    const docker = new MemoryDocker({ ok: true, version: '28' }, 'none')
    const h = host({ 'non-root-strategy': 'drop-privileges' })
    await run(h, fakeServices({ files, registry, docker }))
    expect(h.errors.map(error => error.message)).toEqual([
      "image reg.test/shop/web:1: has none of setpriv, su-exec, gosu: drop-privileges cannot run the app as 101; add one (util-linux's setpriv, su-exec or gosu) or use the sudo strategy"
    ])
    expect(files.written.size).toBe(0)
    expect(docker.builds).toEqual([])
  })
})

describe('platforms', () => {
  /** An index whose amd64 variant runs as root and whose arm64 variant runs as 101 with another Cmd. */
  function multiPlatform(): MemoryRegistry {
    const { registry } = registryWithAppAndAgent()
    const amd = registry.addImage(APP, imageConfig(NGINX_CONFIG, [], 'amd64'), [], { tag: false })
    const arm = registry.addImage(APP, imageConfig({ ...NGINX_CONFIG, User: '101', Cmd: ['nginx', '-g', 'daemon off; worker_processes 2;'] }, [], 'arm64'), [], { tag: false })
    registry.addIndex(APP, [
      { digest: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }
    ])
    return registry
  }

  it('one run with an X86_64 and an ARM64 task definition plans each from its own variant', async () => {
    const registry = multiPlatform()
    const multiAgent = 'reg.test/lacework/multi:1'
    const amdAgent = registry.addImage(multiAgent, imageConfig({ Volumes: { '/var/lib/lacework-backup': {} } }, [], 'amd64'), [], { tag: false })
    const armAgent = registry.addImage(multiAgent, imageConfig({ Volumes: { '/var/lib/lacework-backup': {} } }, [], 'arm64'), [], { tag: false })
    const agentIndex = registry.addIndex(multiAgent, [
      { digest: amdAgent, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: armAgent, platform: { os: 'linux', architecture: 'arm64' } }
    ])
    const files = new MemoryFiles({
      'x86.json': taskDefinition({ runtimePlatform: { cpuArchitecture: 'X86_64' } }),
      'arm.json': taskDefinition({ runtimePlatform: { cpuArchitecture: 'ARM64' } })
    })
    const docker = new MemoryDocker({ ok: true, version: '28' })
    const h = host({ 'task-definition': 'x86.json\narm.json', 'agent-image': multiAgent, 'target-image': 'reg.test/shop/app-lacework' })
    await run(h, fakeServices({ files, registry, docker }))
    expect(h.errors).toEqual([])
    expect(JSON.parse(h.outputs.pattern)).toEqual({ 'x86.json': 'app=root-sidecar', 'arm.json': 'app=nonroot-sidecar' })
    // Each image once per platform.
    expect(registry.calls.filter(call => call.startsWith(`getImageConfig ${APP}`)).sort()).toEqual([`getImageConfig ${APP} linux/amd64`, `getImageConfig ${APP} linux/arm64`])
    // The ARM64 build is an arm64 build from the arm64 variant, named by its own digest.
    expect(docker.builds.map(build => build.platform)).toEqual(['linux/arm64'])
    const armChild = (await registry.getImageConfig(APP, { os: 'linux', architecture: 'arm64' })).manifestDigest
    expect(docker.builds[0].dockerfile).toContain(`FROM reg.test/shop/app@${armChild}`)
    for (const path of ['out/x86.json', 'out/arm.json']) {
      expect(JSON.parse(files.written.get(path) as string).containerDefinitions[1].image).toBe(`${multiAgent}@${agentIndex}`)
    }
  })

  it('an ARM64 task with an AMD64-only agent is an error at runtimePlatform.cpuArchitecture; nothing is written', async () => {
    const registry = multiPlatform()
    const text = taskDefinition({ runtimePlatform: { cpuArchitecture: 'ARM64' } })
    const files = new MemoryFiles({ 'task.json': text })
    const h = host({ 'non-root-strategy': 'run-as-root' })
    await run(h, fakeServices({ files, registry }))
    const line = text.split('\n').findIndex(l => l.includes('"cpuArchitecture"')) + 1
    expect(h.errors).toEqual([
      {
        message: `image ${AGENT}: has no linux/arm64 variant (it has linux/amd64), but the task runs on ARM64 (runtimePlatform.cpuArchitecture): the agent would never start; give agent-image an image with a linux/arm64 variant, or run the task on X86_64`,
        location: { file: 'task.json', line, column: text.split('\n')[line - 1].indexOf('"') + 1 }
      }
    ])
    expect(h.failed).toBe(true)
    expect(files.written.size).toBe(0)
    expect(h.outputs).toEqual({})
  })
})

describe('the review', () => {
  const pullRequest = { owner: 'acme', repo: 'shop', issueNumber: 7 }
  const gitHubRun = (read: () => typeof pullRequest | undefined): GitHubRun => ({ eventName: 'pull_request', apiUrl: 'https://api.github.test', runUrl: 'https://github.test/run/1', pullRequest: read })

  it('is one sticky comment on the pull request, and the comment-url output', async () => {
    const { registry } = registryWithAppAndAgent()
    const comments = new MemoryComments()
    const h = host({ 'github-token': 'ghs_test' }, gitHubRun(() => pullRequest))
    await run(h, fakeServices({ files: new MemoryFiles({ 'task.json': taskDefinition() }), registry, comments }))
    expect(comments.comments.map(comment => [comment.pullRequest, comment.marker])).toEqual([[pullRequest, '<!-- lacework-fargate: task.json -->']])
    expect(h.outputs['comment-url']).toBe('https://github.test/acme/web/pull/7#issuecomment-1')
  })

  it('task definitions fetched from ECS: each family keeps a comment of its own', async () => {
    const { registry } = registryWithAppAndAgent()
    const comments = new MemoryComments()
    const ecs = {
      describe: async (family: string) => ({ taskDefinition: { ...JSON.parse(taskDefinition()), family, revision: 3 }, tags: [] })
    }
    for (const family of ['web', 'worker']) {
      const h = new MemoryHost(
        { 'task-definition-family': family, 'agent-image': AGENT, 'lacework-access-token-secret': SECRET, inspect: 'registry', 'github-token': 'ghs_test' },
        { outputFolder: 'out', gitHubRun: gitHubRun(() => pullRequest) }
      )
      await run(h, fakeServices({ files: new MemoryFiles(), registry, comments, ecs }))
      expect(h.errors).toEqual([])
    }
    expect(comments.comments.map(comment => comment.marker)).toEqual(['<!-- lacework-fargate: web.json -->', '<!-- lacework-fargate: worker.json -->'])
  })

  it.each([
    ['a malformed event payload', () => gitHubRun(() => { throw new SyntaxError('Unexpected token } in JSON at position 3') }), new MemoryComments()],
    ['GitHub refusing the token', () => gitHubRun(() => pullRequest), new MemoryComments(() => ({ status: 'forbidden', httpStatus: 403, message: 'Resource not accessible by integration' }))],
    ['GitHub failing', () => gitHubRun(() => pullRequest), new MemoryComments(() => { throw new Error('connect ECONNREFUSED') })]
  ] as const)('never fails a deploy: %s is one warning, the file written and the outputs set', async (_what, makeRun, comments) => {
    const { registry } = registryWithAppAndAgent()
    const files = new MemoryFiles({ 'task.json': taskDefinition() })
    const h = host({ 'github-token': 'ghs_test' }, makeRun())
    await run(h, fakeServices({ files, registry, comments }))
    expect(h.failed).toBe(false)
    expect(h.errors).toEqual([])
    expect(h.warnings).toHaveLength(1)
    expect(files.written.has('out/task.json')).toBe(true)
    expect(h.outputs).toMatchObject({ 'task-definition': 'out/task.json', changed: 'true' })
  })
})

describe('verify', () => {
  it('a task that would not start fails the run, writes nothing, and its report reaches the summary', async () => {
    const { registry } = registryWithAppAndAgent()
    const files = new MemoryFiles({ 'task.json': taskDefinition() })
    const h = host({ verify: 'true' })
    const verifier = async () => ({ ok: false, failure: 'app exited 1 after 0.2 s as root: boom', checks: [{ container: 'app', check: 'running', ok: false, evidence: 'exited 1' }] })
    await run(h, fakeServices({ files, registry, verifier }))
    expect(h.errors.map(error => error.message)).toEqual(['task.json: app exited 1 after 0.2 s as root: boom'])
    expect(files.written.size).toBe(0)
    expect(h.summaries.join('')).toContain('Verification of task.json: it would not start')
  })
})

describe('defects fixed in the redesign', () => {
  it('default output paths of ../a/t.json and a/t.json do not collide', async () => {
    const { registry } = registryWithAppAndAgent()
    const files = new MemoryFiles({ '../a/t.json': taskDefinition(), 'a/t.json': taskDefinition() })
    const h = host({ 'task-definition': '../a/t.json\na/t.json' })
    await run(h, fakeServices({ files, registry }))
    expect(h.errors).toEqual([])
    expect([...files.written.keys()].sort()).toEqual(['out/_up/a/t.json', 'out/a/t.json'])
    expect(JSON.parse(h.outputs['task-definition'])).toEqual({ '../a/t.json': 'out/_up/a/t.json', 'a/t.json': 'out/a/t.json' })
  })

  it('a secret that another secret starts with never leaves the longer one\'s tail in the diff', async () => {
    const { registry } = registryWithAppAndAgent()
    const short = 'sharedPrefix_0123456789'
    const long = `${short}_TAIL_OF_THE_LONGER_ONE`
    const files = new MemoryFiles({ 'task.json': taskDefinition({}, { environment: [{ name: 'LaceworkAccessToken', value: long }] }) })
    const h = host({ 'lacework-access-token-secret': '', 'lacework-access-token': short })
    await run(h, fakeServices({ files, registry }))
    expect(h.errors).toEqual([])
    const everything = [...h.infos, ...h.summaries].join('\n')
    expect(everything).toContain('"value": "***"')
    expect(everything).not.toContain('TAIL_OF_THE_LONGER_ONE')
  })
})
