import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TaskDefinition } from '../src/core/task-definition.js'
import { ROOT, runAction, type ActionRun } from './support/action.js'
import { expectStartsLikeEcs } from './support/ecs-local.js'
import { RUN_ID } from './support/registry-images.js'
import { IMAGES, REGISTRY, docker, registryDigest, requireServices } from './support/test-env.js'

// Issue 10, through the bundled action against the real registry and engine, with fixtures laid out unlike the
// ones the code grew up with: a one-layer agent (busybox, script and collector in one layer), an agent whose tree
// is spread over layers with Docker's own whiteouts, and multi-platform indexes whose variants differ.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const TOKEN = 'anyAgentToken_0123456789abcdef'
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'

interface Manifest {
  mediaType?: string
  config: { digest: string }
  layers: { digest: string; size: number }[]
  manifests?: { digest: string; platform?: { architecture: string } }[]
}

/** A manifest and its config, read with plain fetch: independent of the client under test. */
async function readImage(reference: string): Promise<{ manifest: Manifest; config: { architecture?: string; config?: { User?: string; Entrypoint?: string[]; Cmd?: string[] } } }> {
  const [, repository, ref] = /^[^/]+\/([^@:]+(?:\/[^@:]+)*)[@:](.+)$/.exec(reference) ?? []
  const manifest = (await (await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${ref}`, { headers: { Accept: ACCEPT } })).json()) as Manifest
  // An index has no config of its own.
  const config = manifest.config ? await (await fetch(`http://${REGISTRY}/v2/${repository}/blobs/${manifest.config.digest}`)).json() : {}
  return { manifest, config }
}

function taskFile(dir: string, name: string, plain: string, change: (td: TaskDefinition & Record<string, unknown>) => void): string {
  const td = JSON.parse(readFileSync(join(ROOT, 'examples', plain), 'utf8')) as TaskDefinition & Record<string, unknown>
  change(td)
  mkdirSync(dir, { recursive: true })
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(td, null, 4))
  return file
}

function succeeded(run: ActionRun): ActionRun {
  if (run.status !== 0) throw new Error(`action failed (${run.status}):\n${run.stdout}\n${run.stderr}`)
  return run
}

beforeAll(requireServices)

describe('a one-layer agent (busybox + script + VOLUME in a single layer), every pattern', () => {
  const cases = [
    { pattern: 'root-sidecar', plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'sidecar', strategy: 'sudo', builder: 'auto', port: 80, appUid: 0 },
    { pattern: 'root-embedded', plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'embedded', strategy: 'sudo', builder: 'auto', port: 80, appUid: 0 },
    { pattern: 'root-embedded', plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'embedded', strategy: 'sudo', builder: 'docker', port: 80, appUid: 0 },
    { pattern: 'nonroot-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'sidecar', strategy: 'sudo', builder: 'auto', port: 8080, appUid: 101 },
    { pattern: 'nonroot-embedded', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'embedded', strategy: 'sudo', builder: 'auto', port: 8080, appUid: 101 },
    { pattern: 'nonroot-as-root-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'sidecar', strategy: 'run-as-root', builder: 'auto', port: 8080, appUid: 0 }
  ]

  test.each(cases)('$pattern (builder $builder): planned, built, and started with the agent as root', async testCase => {
    const dir = mkdtempSync(join(tmpdir(), `lwf-any-agent-${testCase.pattern}-`))
    const file = taskFile(dir, 'task.json', testCase.plain, td => {
      td.containerDefinitions[0].image = testCase.image
    })
    const run = succeeded(
      runAction({
        'task-definition': file,
        mode: testCase.mode,
        'non-root-strategy': testCase.strategy,
        builder: testCase.builder,
        'agent-image': IMAGES.agentSingleLayer,
        'target-image': `${REGISTRY}/lwf-any-agent/${testCase.pattern}-${testCase.builder}-${RUN_ID}`,
        'lacework-access-token': TOKEN
      })
    )
    expect(run.outputs.pattern).toBe(`nginx=${testCase.pattern}`)
    if (testCase.pattern === 'root-embedded') {
      // Daemonless unless docker is asked for; never a refusal of the layout.
      expect(run.stdout.includes('built through the registry')).toBe(testCase.builder === 'auto')
      expect(/\[command\]\S*docker build/.test(run.stdout)).toBe(testCase.builder === 'docker')
    }
    const written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8')) as TaskDefinition
    await expectStartsLikeEcs(written, `lwf-any-agent-${testCase.pattern}-${testCase.builder}`, {
      containerName: 'nginx',
      port: testCase.port,
      appUid: testCase.appUid,
      sudo: testCase.strategy === 'sudo' && testCase.appUid !== 0,
      sidecar: testCase.mode === 'sidecar'
    })
  })
})

describe('the daemonless agent layer', () => {
  /** Builds root-embedded through the registry into `repository` and returns the layer it appended. */
  async function appendedLayer(agentImage: string, repository: string, image = IMAGES.nginx): Promise<{ digest: string; size: number; run: ActionRun; reference: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'lwf-agent-layer-'))
    const file = taskFile(dir, 'task.json', 'nginx-root.json', td => {
      td.containerDefinitions[0].image = image
    })
    const run = succeeded(runAction({ 'task-definition': file, mode: 'embedded', 'agent-image': agentImage, 'target-image': repository, 'lacework-access-token': TOKEN }))
    expect(run.stdout).toContain('built through the registry')
    const built = await readImage(run.outputs.image)
    const base = await readImage(image)
    expect(built.manifest.layers.slice(0, base.manifest.layers.length)).toEqual(base.manifest.layers)
    const added = built.manifest.layers.slice(base.manifest.layers.length)
    expect(added).toHaveLength(1)
    return { ...added[0], run, reference: run.outputs.image }
  }

  test('is byte-identical across two runs into fresh repositories, and holds only the agent tree', async () => {
    const one = await appendedLayer(IMAGES.agentSingleLayer, `${REGISTRY}/lwf-agent-layer/one-${RUN_ID}`)
    const two = await appendedLayer(IMAGES.agentSingleLayer, `${REGISTRY}/lwf-agent-layer/two-${RUN_ID}`)
    expect(two.digest).toBe(one.digest)
    const blob = Buffer.from(await (await fetch(`http://${REGISTRY}/v2/lwf-agent-layer/one-${RUN_ID}/blobs/${one.digest}`)).arrayBuffer())
    const names = execFileSync('tar', ['-tzf', '-'], { input: blob, encoding: 'utf8' }).trim().split('\n')
    expect(names).toEqual(['var/', 'var/lib/', 'var/lib/lacework-backup/', 'var/lib/lacework-backup/datacollector', 'var/lib/lacework-backup/lacework-sidecar.sh'])
    // The budget: what is uploaded is the agent's files plus at most 16 KB (the config, the manifest, tar headers).
    const files = docker(['run', '--rm', '--entrypoint', '/bin/sh', IMAGES.agentSingleLayer, '-c', `cat ${SCRIPT} /var/lib/lacework-backup/datacollector | wc -c`])
    const uploaded = Number(/built through the registry: (\d+) bytes uploaded/.exec(one.run.stdout)?.[1])
    expect(uploaded).toBeLessThanOrEqual(Number(files.trim()) + 16 * 1024)
  })

  test('a second image with the same agent into the same repository sends no layer byte', async () => {
    const repository = `${REGISTRY}/lwf-agent-layer/shared-${RUN_ID}`
    const first = await appendedLayer(IMAGES.agentSingleLayer, repository)
    // Another base image, so another tag: the agent layer is the one already there.
    const second = await appendedLayer(IMAGES.agentSingleLayer, repository, IMAGES.cmdOnly)
    expect(second.digest).toBe(first.digest)
    const sent = Number(/built through the registry: (\d+) bytes uploaded/.exec(second.run.stdout)?.[1])
    const image = await readImage(second.reference)
    const configSize = Number((await fetch(`http://${REGISTRY}/v2/lwf-agent-layer/shared-${RUN_ID}/blobs/${image.manifest.config.digest}`, { method: 'HEAD' })).headers.get('content-length'))
    const manifestBytes = (await (await fetch(`http://${REGISTRY}/v2/lwf-agent-layer/shared-${RUN_ID}/manifests/${second.reference.split('@')[1]}`, { headers: { Accept: ACCEPT } })).arrayBuffer()).byteLength
    expect(sent).toBe(configSize + manifestBytes)
  })

  test('an agent spread over layers with whiteouts gives the tree docker itself sees', async () => {
    const built = await appendedLayer(IMAGES.agentSpread, `${REGISTRY}/lwf-agent-layer/spread-${RUN_ID}`)
    const list = (image: string): string => docker(['run', '--rm', '--entrypoint', '/bin/sh', image, '-c', 'cd /var/lib/lacework-backup && find . | sort'])
    docker(['pull', '--quiet', built.reference])
    const ours = list(built.reference)
    expect(ours).toBe(list(IMAGES.agentSpread))
    expect(ours).not.toContain('old.conf')
    expect(ours).toContain('./obsolete/new.txt')
  })
})

describe('builder auto never fails where a build is possible', () => {
  let linked: string
  beforeAll(() => {
    // A hard link from the agent directory to a file outside it, made in one step so both names land in one layer
    // (overlayfs cannot link to a lower layer's file): that layer cannot carry the agent tree alone.
    linked = `${REGISTRY}/lwf-any-agent/linked-agent:${RUN_ID}`
    const context = mkdtempSync(join(tmpdir(), 'lwf-linked-agent-'))
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        // Not FROM the agent: its VOLUME would make the directory another mount during RUN, and links cannot cross mounts.
        `FROM ${IMAGES.busybox}`,
        'USER root',
        `COPY --from=${IMAGES.agentSingleLayer} /var/lib/lacework-backup /var/lib/lacework-backup`,
        'RUN mkdir -p /opt && cp /bin/busybox /opt/tool && ln /opt/tool /var/lib/lacework-backup/tool',
        'VOLUME /var/lib/lacework-backup',
        'CMD ["/bin/true"]',
        ''
      ].join('\n')
    )
    docker(['build', '--quiet', '--tag', linked, context])
    docker(['push', '--quiet', linked])
  })

  const file = (): string =>
    taskFile(mkdtempSync(join(tmpdir(), 'lwf-linked-')), 'task.json', 'nginx-root.json', td => {
      td.containerDefinitions[0].image = IMAGES.nginx
    })

  test('auto: one info line says why, docker builds it, and it starts with the agent as root', async () => {
    const run = succeeded(runAction({ 'task-definition': file(), mode: 'embedded', 'agent-image': linked, 'target-image': `${REGISTRY}/lwf-any-agent/linked-${RUN_ID}`, 'lacework-access-token': TOKEN }))
    expect(run.stdout.split('\n').filter(line => line.includes('building with docker instead'))).toEqual([
      'nginx: building with docker instead of through the registry: /var/lib/lacework-backup/tool is a hard link to /opt/tool, outside /var/lib/lacework-backup'
    ])
    expect(run.stdout).toMatch(/\[command\]\S*docker build/)
    const written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8')) as TaskDefinition
    await expectStartsLikeEcs(written, 'lwf-any-agent-linked', { containerName: 'nginx', port: 80, appUid: 0, sudo: false, sidecar: false })
  })

  test('registry: one clear error, nothing written', async () => {
    const run = runAction({ 'task-definition': file(), mode: 'embedded', builder: 'registry', 'agent-image': linked, 'target-image': `${REGISTRY}/lwf-any-agent/linked-reg-${RUN_ID}`, 'lacework-access-token': TOKEN })
    expect(run.status).toBe(1)
    // The agent as the build names it: pinned to the digest its tag has now.
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error'))).toEqual([
      `::error::image ${linked}@${await registryDigest(linked)}: builder registry cannot embed it: /var/lib/lacework-backup/tool is a hard link to /opt/tool, outside /var/lib/lacework-backup; builder auto or docker can`
    ])
    expect(run.outputs).toEqual({})
  })
})

describe('one run with an X86_64 and an ARM64 task definition of one multi-platform image', () => {
  // multi-app:1's amd64 variant runs as root; its arm64 variant as 101 with another Cmd.
  const runBoth = (mode: 'sidecar' | 'embedded'): { run: ActionRun; written: Record<string, TaskDefinition>; dir: string } => {
    const dir = mkdtempSync(join(tmpdir(), `lwf-platforms-${mode}-`))
    for (const [name, cpu] of [
      ['x86.json', 'X86_64'],
      ['arm.json', 'ARM64']
    ]) {
      taskFile(join(dir, 'deploy'), name, 'nginx-root.json', td => {
        td.containerDefinitions[0].image = IMAGES.multiApp
        td.runtimePlatform = { operatingSystemFamily: 'LINUX', cpuArchitecture: cpu }
      })
    }
    const run = succeeded(
      runAction(
        {
          'task-definition': 'deploy/*.json',
          mode,
          'agent-image': IMAGES.multiAgent,
          'target-image': `${REGISTRY}/lwf-platforms/${mode}-${RUN_ID}`,
          'lacework-access-token': TOKEN,
          output: join(dir, 'out')
        },
        {},
        dir
      )
    )
    const paths = JSON.parse(run.outputs['task-definition']) as Record<string, string>
    const written = Object.fromEntries(Object.entries(paths).map(([path, out]) => [path, JSON.parse(readFileSync(out, 'utf8')) as TaskDefinition]))
    return { run, written, dir }
  }

  test('sidecar: each task planned from its own variant, the agent pinned to the index for both', async () => {
    const { run, written } = runBoth('sidecar')
    expect(JSON.parse(run.outputs.pattern)).toEqual({ 'deploy/arm.json': 'nginx=nonroot-sidecar', 'deploy/x86.json': 'nginx=root-sidecar' })
    const agent = `${IMAGES.multiAgent}@${await registryDigest(IMAGES.multiAgent)}`
    for (const definition of Object.values(written)) expect(definition.containerDefinitions[1].image).toBe(agent)
    // X86_64: the image as it is, wrapped with the amd64 Cmd; ARM64: a built sudo image with the arm64 Cmd.
    expect(written['deploy/x86.json'].containerDefinitions[0]).toMatchObject({ image: IMAGES.multiApp, entryPoint: [SCRIPT, '/docker-entrypoint.sh'], command: ['nginx', '-g', 'daemon off;'] })
    const arm = written['deploy/arm.json'].containerDefinitions[0]
    expect(arm.entryPoint?.slice(3)).toEqual(['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off; worker_processes 2;'])
    const built = await readImage(arm.image as string)
    expect(built.config.architecture).toBe('arm64')
    expect(built.config.config?.User).toBe('101')
    const index = await readImage(IMAGES.multiApp)
    const armChild = index.manifest.manifests?.find(entry => entry.platform?.architecture === 'arm64')?.digest as string
    const armBase = await readImage(`${IMAGES.multiApp.split(':1')[0]}@${armChild}`)
    const digests = (layers: { digest: string }[]): string[] => layers.map(layer => layer.digest)
    expect(digests(built.manifest.layers).slice(0, armBase.manifest.layers.length)).toEqual(digests(armBase.manifest.layers))
  })

  test('embedded: an amd64 image for the X86_64 task, an arm64 image for the ARM64 one, each from its own base and agent variant', async () => {
    const { written } = runBoth('embedded')
    expect(Object.keys(written).sort()).toEqual(['deploy/arm.json', 'deploy/x86.json'])
    const x86 = await readImage(written['deploy/x86.json'].containerDefinitions[0].image as string)
    const arm = await readImage(written['deploy/arm.json'].containerDefinitions[0].image as string)
    expect([x86.config.architecture, x86.config.config?.User ?? '']).toEqual(['amd64', ''])
    expect([arm.config.architecture, arm.config.config?.User]).toEqual(['arm64', '101'])
    expect(x86.config.config?.Entrypoint).toEqual([SCRIPT, '/docker-entrypoint.sh'])
    expect(arm.config.config?.Cmd).toEqual(['nginx', '-g', 'daemon off; worker_processes 2;'])
  })
})
