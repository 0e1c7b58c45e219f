import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TaskDefinition } from '../src/core/task-definition.js'
import { ROOT, runAction } from './support/action.js'
import { expectStartsLikeEcs, processes, startTask, waitForHttp } from './support/ecs-local.js'
import { IMAGES, REGISTRY, docker, dockerStatus, registryDigest, requireServices } from './support/test-env.js'

// End to end, for each seed pattern: the bundled action against real images in a real engine and registry,
// then the result started the way ECS starts it.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const WRAPPER = ['/bin/sh', '-c', `sudo -n ${SCRIPT} && exec "$0" "$@"`]
const TOKEN = 'e2eTestToken_0123456789abcdef'
const SERVER_URL = 'https://api.fra.lacework.net'
const NGINX_ARGV = ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']
// Written out here, not taken from the code: root runs the agent, then the app is exec'd as 101.
const DROP_WRAPPER = [
  '/bin/sh',
  '-c',
  `${SCRIPT} || exit $?; ` +
    'chown 101 /proc/$$/fd/1 /proc/$$/fd/2 || :; ' +
    'if command -v setpriv >/dev/null 2>&1; then exec setpriv --reuid=101 --regid=$(id -g 101) --init-groups -- "$0" "$@"; ' +
    'elif command -v su-exec >/dev/null 2>&1; then exec su-exec 101 "$0" "$@"; ' +
    'elif command -v gosu >/dev/null 2>&1; then exec gosu 101 "$0" "$@"; ' +
    'else echo "lacework-fargate: the image has none of setpriv, su-exec, gosu to run the app as 101" >&2; exit 1; fi'
]

interface Case {
  pattern: string
  /** The ENTRYPOINT of a built image that embeds the agent. */
  imageEntrypoint?: string[]
  plain: string
  image: string
  mode: 'sidecar' | 'embedded'
  strategy: 'sudo' | 'run-as-root' | 'drop-privileges'
  port: number
  /** The app container as the rewrite must leave it (the fields the pattern decides). */
  expected: Record<string, unknown>
  builds: boolean
  sidecar: boolean
  appUid: number
}

const cases: Case[] = [
  {
    pattern: 'root-sidecar',
    plain: 'nginx-root.json',
    image: IMAGES.nginx,
    mode: 'sidecar',
    strategy: 'sudo',
    port: 80,
    expected: { image: IMAGES.nginx, entryPoint: [SCRIPT, '/docker-entrypoint.sh'], command: ['nginx', '-g', 'daemon off;'] },
    builds: false,
    sidecar: true,
    appUid: 0
  },
  {
    pattern: 'root-embedded',
    plain: 'nginx-root.json',
    image: IMAGES.nginx,
    mode: 'embedded',
    strategy: 'sudo',
    port: 80,
    imageEntrypoint: [SCRIPT, '/docker-entrypoint.sh'],
    expected: {},
    builds: true,
    sidecar: false,
    appUid: 0
  },
  {
    pattern: 'nonroot-sidecar',
    plain: 'nginx-nonroot.json',
    image: IMAGES.unprivileged,
    mode: 'sidecar',
    strategy: 'sudo',
    port: 8080,
    expected: { entryPoint: [...WRAPPER, ...NGINX_ARGV], linuxParameters: { capabilities: { add: ['SYS_PTRACE'] } } },
    builds: true,
    sidecar: true,
    appUid: 101
  },
  {
    pattern: 'nonroot-embedded',
    plain: 'nginx-nonroot.json',
    image: IMAGES.unprivileged,
    mode: 'embedded',
    strategy: 'sudo',
    port: 8080,
    imageEntrypoint: [...WRAPPER, '/docker-entrypoint.sh'],
    expected: { linuxParameters: { capabilities: { add: ['SYS_PTRACE'] } } },
    builds: true,
    sidecar: false,
    appUid: 101
  },
  {
    pattern: 'nonroot-as-root-sidecar',
    plain: 'nginx-nonroot.json',
    image: IMAGES.unprivileged,
    mode: 'sidecar',
    strategy: 'run-as-root',
    port: 8080,
    expected: { image: IMAGES.unprivileged, user: 'root', entryPoint: [SCRIPT, '/docker-entrypoint.sh'], command: ['nginx', '-g', 'daemon off;'] },
    builds: false,
    sidecar: true,
    appUid: 0
  },
  {
    pattern: 'nonroot-drop-sidecar',
    plain: 'nginx-nonroot.json',
    image: IMAGES.unprivileged,
    mode: 'sidecar',
    strategy: 'drop-privileges',
    port: 8080,
    expected: { image: IMAGES.unprivileged, user: 'root', entryPoint: [...DROP_WRAPPER, ...NGINX_ARGV], linuxParameters: { capabilities: { add: ['SYS_PTRACE'] } } },
    builds: false,
    sidecar: true,
    appUid: 101
  },
  {
    pattern: 'nonroot-drop-embedded',
    plain: 'nginx-nonroot.json',
    image: IMAGES.unprivileged,
    mode: 'embedded',
    strategy: 'drop-privileges',
    port: 8080,
    imageEntrypoint: [...DROP_WRAPPER, '/docker-entrypoint.sh'],
    expected: { user: 'root', linuxParameters: { capabilities: { add: ['SYS_PTRACE'] } } },
    builds: true,
    sidecar: false,
    appUid: 101
  }
]

let agentDigest: string
beforeAll(async () => {
  await requireServices()
  agentDigest = await registryDigest(IMAGES.agent)
})

describe.each(cases)('$pattern', testCase => {
  const work = mkdtempSync(join(tmpdir(), `lwf-e2e-${testCase.pattern}-`))
  const input = join(work, 'task-definition.json')
  const target = `${REGISTRY}/lwf-e2e/${testCase.pattern}`
  let written: TaskDefinition
  let run: ReturnType<typeof runAction>
  const settings = {
    mode: testCase.mode,
    'non-root-strategy': testCase.strategy,
    'agent-image': IMAGES.agent,
    'lacework-server-url': SERVER_URL,
    'lacework-access-token': TOKEN,
    'target-image': target
  }

  beforeAll(() => {
    const plain = JSON.parse(readFileSync(join(ROOT, 'examples', testCase.plain), 'utf8')) as TaskDefinition
    plain.containerDefinitions[0].image = testCase.image
    writeFileSync(input, JSON.stringify(plain, null, 4))
    run = runAction({ 'task-definition': input, ...settings })
    if (run.status !== 0) throw new Error(`action failed (${run.status}):\n${run.stdout}\n${run.stderr}`)
    written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8')) as TaskDefinition
  })

  it('writes the task definition to RUNNER_TEMP and sets the outputs', () => {
    expect(run.outputs['task-definition']).toBe(join(run.runnerTemp, 'lacework-fargate', 'task-definition.json'))
    expect(run.outputs.pattern).toBe(`nginx=${testCase.pattern}`)
    expect(run.outputs.changed).toBe('true')
    // The token is in the file (plaintext input), but in no log line: the runner consumes ::add-mask:: itself.
    const logged = [run.stdout, run.stderr].join('\n').split('\n').filter(line => !line.startsWith('::add-mask::'))
    expect(logged.join('\n')).not.toContain(TOKEN)
    expect(logged.join('\n')).toContain('"value": "***"')
    if (testCase.builds) expect(run.outputs.image).toMatch(new RegExp(`^${target}@sha256:[0-9a-f]{64}$`))
    else expect(run.outputs.image).toBe(testCase.image)
  })

  it('rewrites the container as the pattern requires', () => {
    const app = written.containerDefinitions[0]
    expect(app).toMatchObject(testCase.expected)
    expect(app.image).toBe(run.outputs.image)
    expect(app.environment).toEqual([
      { name: 'LaceworkAccessToken', value: TOKEN },
      { name: 'LaceworkServerUrl', value: SERVER_URL }
    ])
    if (testCase.sidecar) {
      expect(app.volumesFrom).toEqual([{ sourceContainer: 'datacollector-sidecar', readOnly: true }])
      expect(app.dependsOn).toEqual([{ containerName: 'datacollector-sidecar', condition: 'SUCCESS' }])
      // Pinned to the digest the registry gives for the tag now.
      expect(written.containerDefinitions[1]).toEqual({ essential: false, name: 'datacollector-sidecar', image: `${IMAGES.agent}@${agentDigest}` })
    } else {
      expect(written.containerDefinitions).toHaveLength(1)
      expect(app.volumesFrom).toBeUndefined()
    }
    // The input file is never touched.
    expect(JSON.parse(readFileSync(input, 'utf8')).containerDefinitions[0]).not.toHaveProperty('environment')
  })

  if (testCase.builds) {
    it('pushed an image whose config and files are right', async () => {
      const [repository, digest] = (run.outputs.image as string).replace(`${REGISTRY}/`, '').split('@')
      const manifest = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${digest}`, {
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' }
      })
      expect(manifest.status).toBe(200)
      docker(['pull', '--quiet', run.outputs.image])
      const config = JSON.parse(docker(['image', 'inspect', '--format', '{{json .Config}}', run.outputs.image]))
      // docker omits an empty User from the JSON.
      expect(config.User ?? '').toBe(testCase.appUid === 0 ? '' : '101')
      const hasAgent = testCase.mode === 'embedded'
      if (hasAgent) {
        expect(config.Entrypoint).toEqual(testCase.imageEntrypoint)
        expect(config.Cmd).toEqual(['nginx', '-g', 'daemon off;'])
      } else {
        expect(config.Entrypoint).toEqual(['/docker-entrypoint.sh'])
      }
      const files = docker(['run', '--rm', '--user', '0', '--entrypoint', '/bin/sh', run.outputs.image, '-c', `ls ${SCRIPT} 2>&1; cat /etc/sudoers.d/lacework-agent 2>&1; true`])
      expect(files.includes(`${SCRIPT}\n`)).toBe(hasAgent)
      if (testCase.strategy === 'drop-privileges') expect(files).toContain('No such file')
      else if (testCase.appUid !== 0) {
        expect(files).toContain(`#101 ALL=(root) NOPASSWD: ${SCRIPT} ""`)
        expect(files).not.toMatch(/NOPASSWD:\s*ALL/)
      }
    })
  }

  if (testCase.builds) {
    it('a second run of the same input finds its image by the derived tag and builds nothing', () => {
      const again = runAction({ 'task-definition': input, ...settings })
      expect(again.status).toBe(0)
      expect(again.outputs.image).toBe(run.outputs.image)
      expect(again.stdout).toMatch(/lacework-[0-9a-f]{16} exists already: nothing (built or pushed|built or uploaded)/)
      expect(again.stdout).not.toMatch(/\[command\]\S*docker build/)
    })
  }

  it('changes nothing when run again on its own output', () => {
    const again = runAction({ 'task-definition': run.outputs['task-definition'], output: join(work, 'again.json'), ...settings })
    expect(again.status).toBe(0)
    expect(again.outputs.changed).toBe('false')
    expect(readFileSync(join(work, 'again.json'), 'utf8')).toBe(readFileSync(run.outputs['task-definition'], 'utf8'))
    expect(again.stdout).not.toContain('docker build')
  })

  it('starts the way ECS starts it: agent as root, app answering HTTP as its user, ended by the stop signal', async () => {
    await expectStartsLikeEcs(written, `lwf-e2e-${testCase.pattern}`, {
      containerName: 'nginx',
      port: testCase.port,
      appUid: testCase.appUid,
      sudo: testCase.strategy === 'sudo' && testCase.appUid !== 0,
      sidecar: testCase.sidecar,
      noSudoInImage: testCase.strategy === 'drop-privileges'
    })
  })
})

describe('an image with Cmd only', () => {
  it('is wrapped with the script alone as entryPoint and its Cmd as command, and serves', async () => {
    const work = mkdtempSync(join(tmpdir(), 'lwf-e2e-cmd-only-'))
    const input = join(work, 'task.json')
    const plain = JSON.parse(readFileSync(join(ROOT, 'examples/nginx-root.json'), 'utf8')) as TaskDefinition
    writeFileSync(input, JSON.stringify(plain, null, 2))
    const run = runAction({
      'task-definition': input,
      image: IMAGES.cmdOnly,
      'agent-image': IMAGES.agent,
      'lacework-access-token': TOKEN
    })
    expect(run.status).toBe(0)
    const written = JSON.parse(readFileSync(run.outputs['task-definition'], 'utf8')) as TaskDefinition
    const app = written.containerDefinitions[0]
    expect(app.image).toBe(IMAGES.cmdOnly)
    expect(app.entryPoint).toEqual([SCRIPT])
    expect(app.command).toEqual(['nginx', '-g', 'daemon off;'])
    const task = startTask(written, 'nginx', 'lwf-e2e-cmd-only')
    try {
      expect(await waitForHttp(`http://127.0.0.1:${task.hostPort(80)}/`, task.app)).toContain('nginx')
      expect(processes(task.app).filter(proc => proc.name === 'datacollector').map(proc => proc.uid)).toEqual([0])
    } finally {
      task.remove()
    }
  })
})

describe('images the engine does not have, and builds kept local', () => {
  const plainFile = (): string => {
    const work = mkdtempSync(join(tmpdir(), 'lwf-e2e-pull-'))
    const file = join(work, 'task.json')
    writeFileSync(file, readFileSync(join(ROOT, 'examples/nginx-nonroot.json'), 'utf8'))
    return file
  }

  it('inspect: auto reads an image the engine lacks from the registry, without pulling it', () => {
    const remote = `${REGISTRY}/lwf-e2e/pull-me:1`
    docker(['tag', IMAGES.nginx, remote])
    docker(['push', remote])
    docker(['rmi', remote])
    const run = runAction({ 'task-definition': plainFile(), image: remote, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN })
    expect(run.status).toBe(0)
    expect(run.outputs.pattern).toBe('nginx=root-sidecar')
    expect(run.stdout).not.toContain('docker pull')
    expect(dockerStatus(['image', 'inspect', remote]).status).not.toBe(0)
  })

  it('inspect: docker pulls an image that is only in the registry, then inspects it', () => {
    const remote = `${REGISTRY}/lwf-e2e/pull-me:1`
    dockerStatus(['rmi', remote])
    const run = runAction({ 'task-definition': plainFile(), image: remote, inspect: 'docker', 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN })
    expect(run.status).toBe(0)
    expect(run.outputs.pattern).toBe('nginx=root-sidecar')
    expect(dockerStatus(['image', 'inspect', remote]).status).toBe(0)
  })

  it('push: false builds into the local engine only', async () => {
    const target = `${REGISTRY}/lwf-e2e/local-only`
    const run = runAction({ 'task-definition': plainFile(), image: IMAGES.unprivileged, push: 'false', 'target-image': target, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN })
    expect(run.status).toBe(0)
    expect(run.outputs.image).toMatch(new RegExp(`^${target}:lacework-[0-9a-f]{16}$`))
    expect(dockerStatus(['image', 'inspect', run.outputs.image]).status).toBe(0)
    const tag = run.outputs.image.split(':').pop()
    const manifest = await fetch(`http://${REGISTRY}/v2/lwf-e2e/local-only/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' }
    })
    expect(manifest.status).toBe(404)
  })
})
