import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import ts from 'typescript'
import { ROOT } from '../support/action.js'
import { IMAGES, docker, requireServices } from '../support/test-env.js'
import { NOTHING, VERIFY_ENV, expectGreen, leftovers, mountedVolumes, uniqueLabel, volumeExists, wrap, verifyLocally } from './support.js'
import { patternNamed } from '../support/patterns.js'

// Nothing a verification creates outlives it: not after a green run, not after a failing one (broken.test.ts
// checks each), not after the process running it is killed midway.

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const expectations = [{ container: 'nginx', pattern: patternNamed('root-sidecar'), appUser: '0' }]

beforeAll(requireServices)

it('a green run removes its containers, network, task volumes and the anonymous volumes of its images', async () => {
  const definition = wrap({ plain: 'nginx-root.json', image: IMAGES.nginx, target: 'root-sidecar' })
  definition.volumes = [{ name: 'scratch' }]
  definition.containerDefinitions[0].mountPoints = [{ sourceVolume: 'scratch', containerPath: '/scratch' }]
  const label = uniqueLabel('green-cleanup')
  const seen = new Set<string>()
  let running = true
  const watcher = (async () => {
    while (running) {
      for (const name of mountedVolumes(label)) seen.add(name)
      await sleep(100)
    }
  })()
  const report = await verifyLocally(definition, { timeoutSeconds: 60, settleSeconds: 2, expectations, label, env: VERIFY_ENV })
  running = false
  await watcher
  expectGreen(report)
  // The task volume and the agent image's anonymous VOLUME were there, and are gone.
  expect([...seen].some(name => name.endsWith('-vol-scratch'))).toBe(true)
  expect([...seen].filter(name => /^[0-9a-f]{64}$/.test(name)).length).toBeGreaterThan(0)
  for (const name of seen) expect(volumeExists(name)).toBe(false)
  expect(leftovers(label)).toEqual(NOTHING)
})

describe('a run killed midway', () => {
  // The verify module, transpiled as it is, run by a plain node process that the test can kill.
  const out = mkdtempSync(join(tmpdir(), 'lwf-verify-kill-'))
  beforeAll(() => {
    // All of src, with the project's node_modules beside it: whatever the verify module comes to import resolves.
    const sources = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]).filter(file => file.endsWith('.ts')).map(file => `src/${file}`)
    symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'))
    for (const source of sources) {
      const output = ts.transpileModule(readFileSync(join(ROOT, source), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText
      mkdirSync(dirname(join(out, source)), { recursive: true })
      writeFileSync(join(out, source.replace(/\.ts$/, '.js')), output)
    }
    writeFileSync(join(out, 'package.json'), '{"type":"module"}')
    writeFileSync(
      join(out, 'run.js'),
      [
        "import { readFileSync } from 'node:fs'",
        "import { Docker } from './src/adapters/docker/docker.js'",
        "import { verifyTask } from './src/verify/verify-task.js'",
        'const [file, label, expectations] = process.argv.slice(2)',
        // A long settle period: the containers are up and stay up until the signal comes.
        "const clock = { now: () => Date.now(), sleep: ms => new Promise(resolve => setTimeout(resolve, ms)) }",
        "const report = await verifyTask(new Docker(), JSON.parse(readFileSync(file, 'utf8')), { timeoutSeconds: 300, settleSeconds: 240, expectations: JSON.parse(expectations), label, clock })",
        'console.log(JSON.stringify(report))'
      ].join('\n')
    )
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('by %s: it removes everything, then dies of the signal', async signal => {
    const definition = wrap({ plain: 'nginx-root.json', image: IMAGES.nginx, target: 'root-sidecar' })
    const file = join(out, `task-${signal}.json`)
    writeFileSync(file, JSON.stringify(definition))
    const label = uniqueLabel(`killed-${signal.toLowerCase()}`)
    const child = spawn(process.execPath, [join(out, 'run.js'), file, label, JSON.stringify(expectations)], { env: VERIFY_ENV, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', chunk => (output += chunk))
    child.stderr.on('data', chunk => (output += chunk))
    const exited = new Promise<NodeJS.Signals | number | null>(resolve => child.on('exit', (code, killedBy) => resolve(killedBy ?? code)))
    try {
      // Wait until the app container runs (the sidecar has come and gone): the run is midway.
      const deadline = Date.now() + 60_000
      while (!docker(['ps', '--quiet', '--filter', `label=lacework-fargate.verify=${label}`, '--filter', 'label=lacework-fargate.verify.container=nginx', '--filter', 'status=running']).trim()) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the run never got its app container up:\n${output}`)
        await sleep(200)
      }
      const before = leftovers(label)
      expect(before.containers.length).toBe(3) // the network holder, the sidecar, the app
      expect(before.networks.length).toBe(1)
      const volumes = mountedVolumes(label)
      expect(volumes.length).toBeGreaterThan(0) // the agent image's VOLUME, shared through volumesFrom
      child.kill(signal)
      expect(await exited).toBe(signal)
      expect(output).not.toContain('"ok"') // it never got to report: the signal ended it
      expect(leftovers(label)).toEqual(NOTHING)
      for (const name of volumes) expect(volumeExists(name)).toBe(false)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})

describe('without a Docker engine', () => {
  it('fails with one line when none answers', async () => {
    const report = await verifyLocally({ containerDefinitions: [{ name: 'app', image: IMAGES.busybox }] }, { timeoutSeconds: 5, expectations: [], env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' } })
    expect(report.ok).toBe(false)
    expect(report.failure).toMatch(/^verify needs a Docker engine and none answers \(docker version: .*\/nonexistent\/docker\.sock.*\)$/)
    expect(report.failure).not.toContain('\n')
  })

  it('fails with one line when there is no docker command', async () => {
    const report = await verifyLocally({ containerDefinitions: [{ name: 'app', image: IMAGES.busybox }] }, { timeoutSeconds: 5, expectations: [], docker: '/nonexistent/docker', env: VERIFY_ENV })
    expect(report.failure).toBe('verify needs a Docker engine and none answers (/nonexistent/docker version: spawn /nonexistent/docker ENOENT)')
  })
})
