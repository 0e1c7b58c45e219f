// The SARIF matchers validate against the SARIF 2.1.0 JSON schema the package ships (with ajv): importing it
// registers toBeValidSarifLog on jest's global expect.
import '@microsoft/jest-sarif'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { ROOT, runAction, runActionAsync, type ActionRun } from './support/action.js'
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js'
import { RUN_ID } from './support/registry-images.js'
import { DOCKER_ENV, IMAGES, REGISTRY, docker, dockerStatus, registryDigest, requireServices } from './support/test-env.js'

// The audit (issue 14) through the bundled action, against the real engine, registry and fixture images: the seed's
// own task definitions, uninstrumented ones, the action's own output for every pattern, the rules that need the
// registry (a stale pin, a broad sudo rule read from the image's layers, an agent without the task's CPU), the SARIF
// file, the gate and suppressions, and what the sudoers read costs in requests and leaves on disk.
//
// Expected rule ids and levels are written out here from the issue; expected lines and columns are found in each
// file's text (the node's line by searching for it), never taken from the output under test.

const SCRIPT = '/var/lib/lacework-backup/lacework-sidecar.sh'
const SECRET_ARN = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
const SEED = join(ROOT, 'examples/seed')
const FIXTURES = join(ROOT, '__tests__/fixtures/audit')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
/** The level each rule reports at, as issue 14 grades them. */
const LEVEL: Record<string, 'error' | 'warning'> = {
  LWF001: 'error',
  LWF002: 'error',
  LWF003: 'warning',
  LWF004: 'error',
  LWF005: 'warning',
  LWF006: 'warning',
  LWF007: 'error',
  LWF008: 'error',
  LWF009: 'error',
  LWF010: 'error'
}
/** The seed's images, built from the seed's own Dockerfiles with only their FROM lines pointed at the fixtures. */
const SEED_IMAGES = {
  nonrootSidecar: `${REGISTRY}/lwf-audit/seed-nonroot-sidecar:1`,
  nonrootEmbedded: `${REGISTRY}/lwf-audit/seed-nonroot-embedded:1`,
  rootEmbedded: `${REGISTRY}/lwf-audit/seed-root-embedded:1`
}
/** Where each FROM of the seed's Dockerfiles points here (Docker Hub is out of reach). */
const FROM: Record<string, string> = {
  'lacework/datacollector:latest-sidecar': IMAGES.agent,
  'nginxinc/nginx-unprivileged:1.23.1': IMAGES.unprivileged,
  'nginx:1.23.1': IMAGES.nginx
}

// ------------------------------------------------------------------ helpers

interface Position {
  line: number
  column: number
}

/** The first line at or after line `from` holding `needle`, and the column where the needle starts (1-based both). */
function find(text: string, needle: string, from = 1): Position {
  const lines = text.split('\n')
  for (let index = from - 1; index < lines.length; index++) {
    const column = lines[index].indexOf(needle)
    if (column >= 0) return { line: index + 1, column: column + 1 }
  }
  throw new Error(`${JSON.stringify(needle)} is not in the text`)
}

/** The `{` that opens the object holding line `line`: walking back over the lines, counting braces. */
function enclosingObject(text: string, line: number): Position {
  const lines = text.split('\n')
  let depth = 0
  for (let index = line - 2; index >= 0; index--) {
    for (let column = lines[index].length - 1; column >= 0; column--) {
      const char = lines[index][column]
      if (char === '}') depth++
      if (char === '{' && depth-- === 0) return { line: index + 1, column: column + 1 }
    }
  }
  throw new Error(`no object encloses line ${line}`)
}

/** Node finders over a task definition's text: where a finding about that node must sit. */
const at = {
  /** The environment entry that holds the token in plain text. */
  tokenEntry: (text: string) => enclosingObject(text, find(text, '"name": "LaceworkAccessToken"').line),
  /** A container's `image` property (the key, as editors point at it). */
  image: (reference: string) => (text: string) => find(text, `"image": "${reference}"`),
  entryPoint: (text: string) => find(text, '"entryPoint"'),
  cpuArchitecture: (text: string) => find(text, '"cpuArchitecture"'),
  /** The container object itself, by its name. */
  container: (name: string) => (text: string) => enclosingObject(text, find(text, `"name": "${name}"`).line)
}

interface Annotation {
  level: string
  file: string
  line: number
  column: number
  rule: string
  message: string
}

/** The annotations a run wrote (`::error file=…,line=…,col=…::LWF… message`), data unescaped as the runner does. */
function annotations(run: ActionRun): Annotation[] {
  const unescape = (value: string): string => value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
  const found: Annotation[] = []
  for (const line of run.stdout.split('\n')) {
    const match = /^::(error|warning|notice) ([^:]*)::(.*)$/.exec(line)
    if (!match) continue
    const properties = Object.fromEntries(match[2].split(',').map(pair => pair.split('=')).map(([key, value]) => [key, unescape(value)]))
    const message = unescape(match[3])
    found.push({ level: match[1], file: properties.file, line: Number(properties.line), column: Number(properties.col), rule: message.slice(0, 6), message })
  }
  return found
}

/** Folders this file made, removed at the end. */
const made: string[] = []
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

/** A fresh folder standing for the repository's checkout: the action runs in it, as a runner runs steps. */
function workspace(name: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `lwf-audit-${name}-`))
  made.push(dir)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

/** Runs the bundled action with `audit: true` in `cwd`. */
function audit(cwd: string, inputs: Record<string, string>, env: Record<string, string> = {}): ActionRun {
  return runAction({ audit: 'true', ...inputs }, { ...DOCKER_ENV, GITHUB_WORKSPACE: cwd, ...env }, cwd)
}

/** The `findings` output, parsed. */
function counts(run: ActionRun): Record<string, number> {
  if (run.outputs.findings === undefined) throw new Error(`no findings output (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
  return JSON.parse(run.outputs.findings) as Record<string, number>
}

/** What the findings of these rules count to, per level. */
function expectedCounts(rules: string[], suppressed = 0): Record<string, number> {
  const result = { error: 0, warning: 0, note: 0, suppressed }
  for (const rule of rules) result[LEVEL[rule]]++
  return result
}

/** A fixture of __tests__/fixtures/audit with its placeholders filled. */
function fixture(name: string, values: { APP: string; AGENT: string }): string {
  return readFileSync(join(FIXTURES, name), 'utf8').replace(/\{\{(APP|AGENT)\}\}/g, (_, key: 'APP' | 'AGENT') => values[key])
}

/** Every file under `dir`, relative to it, with its size and modification time. */
function listing(dir: string): string[] {
  const out: string[] = []
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name)
      const stat = statSync(path)
      if (stat.isDirectory()) walk(path)
      else out.push(`${relative(dir, path)} ${stat.size} ${stat.mtimeMs}`)
    }
  }
  walk(dir)
  return out.sort()
}

/** The seed's Dockerfile `name` with its FROM images pointed at the fixtures, the rest as the seed wrote it. */
function seedDockerfile(name: string): string {
  const text = readFileSync(join(SEED, name), 'utf8')
  const rewritten = text.replace(/^FROM (\S+)/gm, (_line, image: string) => {
    if (!FROM[image]) throw new Error(`${name}: no fixture stands in for ${image}`)
    return `FROM ${FROM[image]}`
  })
  // Nothing else changed: putting the seed's names back gives the seed's file.
  expect(rewritten.replace(/^FROM (\S+)/gm, (_line, image: string) => `FROM ${Object.keys(FROM).find(key => FROM[key] === image) ?? image}`)).toBe(text)
  return rewritten
}

function buildSeedImage(dockerfile: string, tag: string): void {
  const context = workspace('build')
  writeFileSync(join(context, 'Dockerfile'), seedDockerfile(dockerfile))
  docker(['build', '--quiet', '--tag', tag, context])
  docker(['push', '--quiet', tag])
}

/** The config and layer digests of an image's manifest, read with plain fetch (independent of the code under test). */
async function manifestBlobs(reference: string): Promise<{ config: string; layers: string[] }> {
  const [, repository, tag] = /^[^/]+\/(.+):([^:@]+)$/.exec(reference) ?? []
  const response = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${tag}`, {
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' }
  })
  if (!response.ok) throw new Error(`GET manifest ${reference}: ${response.status}`)
  const manifest = (await response.json()) as { config: { digest: string }; layers: { digest: string }[] }
  return { config: manifest.config.digest, layers: manifest.layers.map(layer => layer.digest) }
}

const digests = new Map<string, string>()
/** The digest an agent fixture's tag names, read in beforeAll with a plain HEAD: the pin the action would write. */
function digestOf(reference: string): string {
  const digest = digests.get(reference)
  if (!digest) throw new Error(`no digest read for ${reference}`)
  return digest
}

beforeAll(async () => {
  await requireServices()
  for (const reference of [IMAGES.agent, IMAGES.multiAgent]) digests.set(reference, await registryDigest(reference))
  buildSeedImage('Dockerfile-nonroot-sidecar', SEED_IMAGES.nonrootSidecar)
  buildSeedImage('Dockerfile-nonroot-embedded', SEED_IMAGES.nonrootEmbedded)
  buildSeedImage('Dockerfile-root-embedded', SEED_IMAGES.rootEmbedded)
}, 900_000)

// ------------------------------------------------------------------ 1. the seed's examples

interface SeedCase {
  file: string
  /** The image the seed names, and the local one that stands in for it. */
  image: [string, () => string]
  /** Rule id and where its finding must sit. */
  findings: [string, (text: string, app: string) => Position][]
}

const appImage = (text: string, app: string): Position => at.image(app)(text)
const agentImage = (text: string): Position => at.image(IMAGES.agent)(text)

const seedCases: SeedCase[] = [
  { file: 'nginx-root-sidecar.json', image: ['nginx:1.23.1', () => IMAGES.nginx], findings: [['LWF004', at.tokenEntry], ['LWF005', agentImage]] },
  { file: 'nginx-root-embedded.json', image: ['timarenz/nginx:root-embedded', () => SEED_IMAGES.rootEmbedded], findings: [['LWF004', at.tokenEntry]] },
  {
    file: 'nginx-nonroot-sidecar.json',
    image: ['timarenz/nginx:nonroot-sidecar', () => SEED_IMAGES.nonrootSidecar],
    findings: [
      ['LWF003', at.entryPoint],
      ['LWF004', at.tokenEntry],
      ['LWF005', agentImage],
      ['LWF008', appImage]
    ]
  },
  {
    file: 'nginx-nonroot-embedded.json',
    image: ['timarenz/nginx:nonroot-embedded', () => SEED_IMAGES.nonrootEmbedded],
    // The un-exec'd `sh -c` is the image's Entrypoint here: its finding sits at the image.
    findings: [
      ['LWF003', appImage],
      ['LWF004', at.tokenEntry],
      ['LWF008', appImage]
    ]
  },
  {
    file: 'nginx-nonrootasroot-sidecar.json',
    image: ['nginxinc/nginx-unprivileged:1.23.1', () => IMAGES.unprivileged],
    findings: [['LWF004', at.tokenEntry], ['LWF005', agentImage]]
  },
  {
    // Bitnami's MongoDB image runs as a non-root user (1001), as the unprivileged nginx does; the task says root.
    file: 'mongodb-root-sidecar.json',
    image: ['timarenz/mongodb:root-sidecar', () => IMAGES.unprivileged],
    findings: [['LWF004', at.tokenEntry], ['LWF005', agentImage]]
  }
]

/** The seed's file with its images remapped to the local ones, nothing else changed. */
function remapSeed(testCase: SeedCase): string {
  const original = readFileSync(join(SEED, testCase.file), 'utf8')
  const [seedImage, local] = testCase.image
  const remapped = original.replace(`"image": "${seedImage}"`, `"image": "${local()}"`).replace('"image": "lacework/datacollector:latest-sidecar"', `"image": "${IMAGES.agent}"`)
  expect(remapped.replace(local(), seedImage).replace(IMAGES.agent, 'lacework/datacollector:latest-sidecar')).toBe(original)
  expect(remapped).not.toBe(original)
  return remapped
}

describe("the seed's own example task definitions", () => {
  it.each(seedCases)('$file gives the expected rule ids at the expected lines', testCase => {
    const text = remapSeed(testCase)
    const cwd = workspace('seed', { [testCase.file]: text })
    const run = audit(cwd, { 'task-definition': testCase.file })
    const expected = testCase.findings.map(([rule, where]) => ({ rule, level: LEVEL[rule], file: testCase.file, ...where(text, testCase.image[1]()) }))
    const found = annotations(run).map(({ rule, level, file, line, column }) => ({ rule, level, file, line, column }))
    const order = (a: { rule: string }, b: { rule: string }): number => a.rule.localeCompare(b.rule)
    expect(found.sort(order)).toEqual(expected.sort(order))
    // Every seed file holds an error (the plain-text token): the default gate fails, and says so in one line.
    expect(run.status).toBe(1)
    expect(counts(run)).toEqual(expectedCounts(testCase.findings.map(([rule]) => rule)))
    expect(run.stdout).toMatch(/^::error::audit: \d+ error\(s\)/m)
    // The token is masked before anything is logged.
    expect(run.stdout).toContain('::add-mask::abcdef')
  })

  it("LWF008 names the seed's `%sudo ALL=(ALL) NOPASSWD:ALL`, read from the image's layers through the registry", () => {
    const testCase = seedCases.find(item => item.file === 'nginx-nonroot-sidecar.json') as SeedCase
    const cwd = workspace('seed-sudo', { 'task.json': remapSeed(testCase) })
    const run = audit(cwd, { 'task-definition': 'task.json' })
    const [finding] = annotations(run).filter(item => item.rule === 'LWF008')
    expect(finding.message).toMatch(/user 101 become root .*\/etc\/sudoers:\d+ `%sudo ALL=\(ALL\) NOPASSWD:ALL`/)
    // The line it names holds that rule in the image (read back with the engine, not with the code under test).
    const line = Number(/\/etc\/sudoers:(\d+)/.exec(finding.message)?.[1])
    const sudoers = docker(['run', '--rm', '--user', '0', '--entrypoint', 'cat', SEED_IMAGES.nonrootSidecar, '/etc/sudoers']).split('\n')
    expect(sudoers[line - 1]).toBe('%sudo ALL=(ALL) NOPASSWD:ALL')
    expect(run.stdout).toMatch(/sudoers read from \d+ layers \(\d+ compressed bytes streamed/)
  })
})

// ------------------------------------------------------------------ 2. uninstrumented task definitions

describe('uninstrumented task definitions', () => {
  it('give LWF001 at each essential container, one per file, in one run over a glob', () => {
    const root = readFileSync(join(ROOT, 'examples/nginx-root.json'), 'utf8').replace('"image": "nginx:1.23.1"', `"image": "${IMAGES.nginx}"`)
    const nonroot = readFileSync(join(ROOT, 'examples/nginx-nonroot.json'), 'utf8').replace(/"image": "[^"]+"/, `"image": "${IMAGES.unprivileged}"`)
    expect(nonroot).toContain(IMAGES.unprivileged)
    const cwd = workspace('plain', { 'deploy/root/task.json': root, 'deploy/nonroot/task.json': nonroot })
    const run = audit(cwd, { 'task-definition': 'deploy/**/task.json' })
    const found = annotations(run).map(({ rule, level, file, line, column }) => ({ rule, level, file, line, column }))
    expect(found.sort((a, b) => a.file.localeCompare(b.file))).toEqual([
      { rule: 'LWF001', level: 'error', file: 'deploy/nonroot/task.json', ...at.container('nginx')(nonroot) },
      { rule: 'LWF001', level: 'error', file: 'deploy/root/task.json', ...at.container('nginx')(root) }
    ])
    expect(run.status).toBe(1)
    expect(counts(run)).toEqual(expectedCounts(['LWF001', 'LWF001']))
  })
})

// ------------------------------------------------------------------ 3. the action's own output

const patterns = [
  { pattern: 'root-sidecar', plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'sidecar', strategy: 'sudo', readsSudoers: false },
  { pattern: 'root-embedded', plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'embedded', strategy: 'sudo', readsSudoers: false },
  { pattern: 'nonroot-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'sidecar', strategy: 'sudo', readsSudoers: true },
  { pattern: 'nonroot-embedded', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'embedded', strategy: 'sudo', readsSudoers: true },
  { pattern: 'nonroot-as-root-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'sidecar', strategy: 'run-as-root', readsSudoers: false },
  { pattern: 'nonroot-drop-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'sidecar', strategy: 'drop-privileges', readsSudoers: false },
  { pattern: 'nonroot-drop-embedded', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'embedded', strategy: 'drop-privileges', readsSudoers: false }
]

/** Instruments `examples/<plain>` with the image given, a pinned agent and the token from a secret; returns the written file's text. */
function instrument(cwd: string, testCase: (typeof patterns)[number]): { run: ActionRun; text: string } {
  const plain = readFileSync(join(ROOT, 'examples', testCase.plain), 'utf8').replace(/"image": "[^"]+"/, `"image": "${testCase.image}"`)
  writeFileSync(join(cwd, 'plain.json'), plain)
  const run = runAction(
    {
      'task-definition': 'plain.json',
      mode: testCase.mode,
      'non-root-strategy': testCase.strategy,
      'agent-image': IMAGES.agent,
      'pin-agent-image': 'true',
      'lacework-access-token-secret': SECRET_ARN,
      'target-image': `${REGISTRY}/lwf-audit/${testCase.pattern}`,
      output: 'instrumented.json'
    },
    DOCKER_ENV,
    cwd
  )
  if (run.status !== 0) throw new Error(`instrumenting failed (${run.status}):\n${run.stdout}\n${run.stderr}`)
  return { run, text: readFileSync(join(cwd, 'instrumented.json'), 'utf8') }
}

describe("the action's own output, with pinning and a secret", () => {
  it.each(patterns)('$pattern audits clean: no finding, exit 0', testCase => {
    const cwd = workspace(`own-${testCase.pattern}`)
    const { run: instrumented, text } = instrument(cwd, testCase)
    expect(instrumented.outputs.pattern).toBe(`nginx=${testCase.pattern}`)
    const written = JSON.parse(text) as { containerDefinitions: { name: string; image: string; environment?: unknown[]; secrets?: unknown[] }[] }
    // What makes it clean is what the inputs asked for: the agent pinned by digest, the token from the secret.
    const sidecar = written.containerDefinitions.find(container => container.name === 'datacollector-sidecar')
    if (testCase.mode === 'sidecar') expect(sidecar?.image).toMatch(new RegExp(`^${IMAGES.agent}@sha256:[0-9a-f]{64}$`))
    else expect(sidecar).toBeUndefined()
    expect(JSON.stringify(written)).toContain(SECRET_ARN)
    const run = audit(cwd, { 'task-definition': 'instrumented.json', sarif: 'audit.sarif' })
    expect(annotations(run)).toEqual([])
    expect(run.status).toBe(0)
    expect(counts(run)).toEqual({ error: 0, warning: 0, note: 0, suppressed: 0 })
    expect(JSON.parse(readFileSync(join(cwd, 'audit.sarif'), 'utf8')).runs[0].results).toEqual([])
    // The non-root patterns with sudo had their image's sudoers read, and found no rule beyond the agent script.
    expect(/sudoers read from \d+ layers/.test(run.stdout)).toBe(testCase.readsSudoers)
  })
})

// ------------------------------------------------------------------ 4. rules that need the registry

describe('registry-backed rules, each with a near miss', () => {
  it('LWF006: a pinned agent whose tag has moved on; the near miss: the tag still names the pin', async () => {
    const repository = `${REGISTRY}/lwf-audit-${RUN_ID}/lacework/datacollector`
    const tag = `${repository}:latest-sidecar`
    const references = [tag]
    try {
      docker(['tag', IMAGES.agent, tag])
      docker(['push', '--quiet', tag])
      const pinned = `${tag}@${await registryDigest(tag)}`
      references.push(pinned.replace(':latest-sidecar@', '@'))
      const text = fixture('root-sidecar.json', { APP: IMAGES.nginx, AGENT: pinned })
      const cwd = workspace('stale', { 'task.json': text })

      const current = audit(cwd, { 'task-definition': 'task.json' })
      expect(annotations(current)).toEqual([])
      expect(counts(current)).toEqual({ error: 0, warning: 0, note: 0, suppressed: 0 })
      expect(current.status).toBe(0)

      // A new agent is pushed under the pinned tag (another image: the one-layer agent, which has the volume too).
      docker(['tag', IMAGES.agentSingleLayer, tag])
      docker(['push', '--quiet', tag])
      const now = await registryDigest(tag)
      references.push(`${repository}@${now}`)
      expect(`${tag}@${now}`).not.toBe(pinned)
      const stale = audit(cwd, { 'task-definition': 'task.json' })
      expect(annotations(stale).map(({ rule, level, line, column }) => ({ rule, level, line, column }))).toEqual([{ rule: 'LWF006', level: 'warning', ...at.image(pinned)(text) }])
      expect(annotations(stale)[0].message).toContain(now)
      expect(counts(stale)).toEqual(expectedCounts(['LWF006']))
      // A warning: the default gate (error) lets it pass.
      expect(stale.status).toBe(0)
    } finally {
      // The engine's references to this run's repository (the registry keeps the repository, as for other tests).
      for (const reference of references) dockerStatus(['rmi', reference])
    }
  })

  it("LWF008: the seed's broad sudo rule trips it; the near miss: the action's own sudo image, whose only rule is the agent script", () => {
    const agent = `${IMAGES.agent}@${digestOf(IMAGES.agent)}`
    // The action's own sudo-enabled image, as its nonroot-sidecar pattern builds it.
    const own = instrument(workspace('sudo-own'), patterns.find(item => item.pattern === 'nonroot-sidecar') as (typeof patterns)[number]).run.outputs.image
    expect(own).toMatch(/^127\.0\.0\.1:\d+\/lwf-audit\/nonroot-sidecar@sha256:/)
    const rules = docker(['run', '--rm', '--user', '0', '--entrypoint', '/bin/sh', own, '-c', 'cat /etc/sudoers /etc/sudoers.d/*'])
    expect(rules).toContain(`#101 ALL=(root) NOPASSWD: ${SCRIPT} ""`)
    expect(rules).not.toMatch(/NOPASSWD:\s*ALL/)
    // Debian's own `%sudo ALL=(ALL:ALL) ALL` is there, but user 101 is in no group it names.
    expect(docker(['run', '--rm', '--user', '0', '--entrypoint', 'id', own, '-nG', '101']).trim()).toBe('nginx')

    const nearMiss = fixture('sudo-wrapper-sidecar.json', { APP: own, AGENT: agent })
    const clean = audit(workspace('sudo-near-miss', { 'task.json': nearMiss }), { 'task-definition': 'task.json' })
    expect(clean.stdout).toMatch(/sudoers read from \d+ layers/)
    expect(annotations(clean)).toEqual([])
    expect(clean.status).toBe(0)

    const trip = fixture('sudo-wrapper-sidecar.json', { APP: SEED_IMAGES.nonrootSidecar, AGENT: agent })
    const broad = audit(workspace('sudo-trip', { 'task.json': trip }), { 'task-definition': 'task.json' })
    expect(annotations(broad).map(({ rule, level, line, column }) => ({ rule, level, line, column }))).toEqual([{ rule: 'LWF008', level: 'error', ...at.image(SEED_IMAGES.nonrootSidecar)(trip) }])
    expect(annotations(broad)[0].message).toContain('`%sudo ALL=(ALL) NOPASSWD:ALL`')
    expect(broad.status).toBe(1)
  })

  it('LWF009: an ARM64 task with an AMD64-only agent; the near miss: a multi-platform agent with arm64', () => {
    const amd64Only = `${IMAGES.agent}@${digestOf(IMAGES.agent)}`
    const trip = fixture('arm64-root-sidecar.json', { APP: IMAGES.multiApp, AGENT: amd64Only })
    const run = audit(workspace('arm64-trip', { 'task.json': trip }), { 'task-definition': 'task.json' })
    expect(annotations(run).map(({ rule, level, line, column }) => ({ rule, level, line, column }))).toEqual([{ rule: 'LWF009', level: 'error', ...at.cpuArchitecture(trip) }])
    expect(annotations(run)[0].message).toContain('no linux/arm64 variant')
    expect(run.status).toBe(1)

    const both = `${IMAGES.multiAgent}@${digestOf(IMAGES.multiAgent)}`
    const nearMiss = fixture('arm64-root-sidecar.json', { APP: IMAGES.multiApp, AGENT: both })
    const clean = audit(workspace('arm64-near-miss', { 'task.json': nearMiss }), { 'task-definition': 'task.json' })
    expect(annotations(clean)).toEqual([])
    expect(counts(clean)).toEqual({ error: 0, warning: 0, note: 0, suppressed: 0 })
    expect(clean.status).toBe(0)
  })
})

// ------------------------------------------------------------------ 5. SARIF

interface SarifLog {
  version: string
  runs: {
    tool: { driver: { name: string; version: string; semanticVersion?: string; rules: SarifRule[] } }
    results: SarifResult[]
  }[]
}
interface SarifRule {
  id: string
  name: string
  shortDescription: { text: string }
  fullDescription: { text: string }
  help: { text: string; markdown: string }
  defaultConfiguration: { level: string }
  properties: { 'security-severity': string; tags: string[] }
}
interface SarifResult {
  ruleId: string
  ruleIndex: number
  level: string
  message: { text: string }
  locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn: number } } }[]
  partialFingerprints: Record<string, string>
  suppressions?: { kind: string; status: string; justification: string; properties?: { by: string } }[]
}

function readSarif(path: string): SarifLog {
  return JSON.parse(readFileSync(path, 'utf8')) as SarifLog
}

describe('the SARIF file (input sarif)', () => {
  const testCase = seedCases.find(item => item.file === 'nginx-nonroot-sidecar.json') as SeedCase

  it('validates against SARIF 2.1.0 and carries the driver, every rule, and each result where the file has it', () => {
    const text = remapSeed(testCase)
    const cwd = workspace('sarif', { 'deploy/web task.json': text })
    const run = audit(cwd, { 'task-definition': 'deploy/web task.json', sarif: 'reports/audit.sarif' })
    expect(run.outputs.sarif).toBe('reports/audit.sarif')
    const log = readSarif(join(cwd, 'reports/audit.sarif'))
    expect(log).toBeValidSarifLog()
    expect(log.version).toBe('2.1.0')
    const { driver } = log.runs[0].tool
    expect([driver.name, driver.version, driver.semanticVersion]).toEqual(['lacework-fargate', VERSION, VERSION])
    // Every rule, whether it found something or not: id, name, descriptions, help with the fix, level, severity.
    expect(driver.rules.map(rule => rule.id)).toEqual(Object.keys(LEVEL))
    for (const rule of driver.rules) {
      expect(rule.name).toMatch(/^[A-Z][A-Za-z0-9]+$/)
      expect(rule.shortDescription.text.length).toBeGreaterThan(10)
      expect(rule.fullDescription.text.length).toBeGreaterThan(10)
      // The help says how to fix it: which input or pattern of the action.
      expect(rule.help.text).toMatch(/lacework-fargate|pin-agent-image|lacework-access-token-secret|non-root-strategy|readonlyRootFilesystem|cpuArchitecture/)
      expect(rule.help.markdown.length).toBeGreaterThan(0)
      expect(rule.defaultConfiguration.level).toBe(LEVEL[rule.id])
      const severity = Number(rule.properties['security-severity'])
      expect(severity).toBeGreaterThan(0)
      expect(severity).toBeLessThanOrEqual(10)
      expect(rule.properties.tags).toContain('security')
    }
    const results = log.runs[0].results
    const expected = testCase.findings.map(([rule, where]) => ({ rule, ...where(text, testCase.image[1]()) }))
    expect(results.map(result => result.ruleId).sort()).toEqual(expected.map(item => item.rule).sort())
    for (const result of results) {
      expect(driver.rules[result.ruleIndex].id).toBe(result.ruleId)
      expect(result.level).toBe(LEVEL[result.ruleId])
      expect(result.message.text).toMatch(/^container (nginx|datacollector-sidecar): \S/)
      const { artifactLocation, region } = result.locations[0].physicalLocation
      // Relative to the workspace, as a URI reference (the space percent-encoded).
      expect(artifactLocation).toEqual({ uri: 'deploy/web%20task.json', uriBaseId: '%SRCROOT%' })
      const where = expected.find(item => item.rule === result.ruleId) as Position
      expect(region).toEqual({ startLine: where.line, startColumn: where.column })
      expect(Object.values(result.partialFingerprints)).toEqual([expect.stringMatching(/^[0-9a-f]{16,}$/)])
    }
    // One fingerprint per problem.
    expect(new Set(results.map(result => JSON.stringify(result.partialFingerprints))).size).toBe(results.length)
  })

  it('keeps every fingerprint when unrelated lines are added above, while the lines move', () => {
    const text = remapSeed(testCase)
    const cwd = workspace('fingerprints', { 'task.json': text })
    const before = audit(cwd, { 'task-definition': 'task.json', sarif: 'before.sarif' })
    expect(before.status).toBe(1)
    // The next commit adds tags and a description at the top of the task definition.
    const added = text.replace('{\n', '{\n    "tags": [\n        { "key": "team", "value": "web" },\n        { "key": "cost-center", "value": "42" }\n    ],\n    "taskRoleArn": "arn:aws:iam::012345678901:role/web",\n')
    expect(added.split('\n').length).toBe(text.split('\n').length + 5)
    writeFileSync(join(cwd, 'task.json'), added)
    audit(cwd, { 'task-definition': 'task.json', sarif: 'after.sarif' })
    const key = (result: SarifResult): string => result.ruleId
    const old = new Map(readSarif(join(cwd, 'before.sarif')).runs[0].results.map(result => [key(result), result]))
    const now = readSarif(join(cwd, 'after.sarif')).runs[0].results
    expect(now.map(key).sort()).toEqual([...old.keys()].sort())
    for (const result of now) {
      const previous = old.get(key(result)) as SarifResult
      expect(result.partialFingerprints).toEqual(previous.partialFingerprints)
      expect(result.locations[0].physicalLocation.region.startLine).toBe(previous.locations[0].physicalLocation.region.startLine + 5)
    }
    // The near miss: another problem in the same place is another alert (the fingerprint is not the line's).
    const renamed = added.replace('"name": "nginx"', '"name": "web"')
    writeFileSync(join(cwd, 'task.json'), renamed)
    audit(cwd, { 'task-definition': 'task.json', sarif: 'renamed.sarif' })
    const token = (log: SarifLog): SarifResult => log.runs[0].results.find(result => result.ruleId === 'LWF004') as SarifResult
    expect(token(readSarif(join(cwd, 'renamed.sarif'))).partialFingerprints).not.toEqual(token(readSarif(join(cwd, 'after.sarif'))).partialFingerprints)
  })

  it('names a task definition given by its absolute path relative to the workspace, and refuses one outside it', () => {
    const text = remapSeed(seedCases[0])
    const cwd = workspace('absolute', { 'ecs/task.json': text })
    const run = audit(cwd, { 'task-definition': join(cwd, 'ecs/task.json'), sarif: 'audit.sarif' })
    expect(run.status).toBe(1)
    const uris = readSarif(join(cwd, 'audit.sarif')).runs[0].results.map(result => result.locations[0].physicalLocation.artifactLocation.uri)
    expect(uris).toEqual(['ecs/task.json', 'ecs/task.json'])
    expect(annotations(run).map(item => item.file)).toEqual(['ecs/task.json', 'ecs/task.json'])

    const elsewhere = workspace('elsewhere', { 'task.json': text })
    const outside = audit(cwd, { 'task-definition': join(elsewhere, 'task.json'), sarif: 'outside.sarif' })
    expect(outside.status).toBe(1)
    expect(outside.stdout).toContain(`::error::input sarif: ${join(elsewhere, 'task.json')} is outside the workspace`)
    expect(outside.stdout).not.toContain('unexpected failure')
    expect(outside.outputs.findings).toBeUndefined()
  })

  it('leaves nothing in the workspace or RUNNER_TEMP but the SARIF file and the summary', () => {
    const text = remapSeed(testCase)
    const cwd = workspace('disk', { 'task.json': text })
    const summaryDir = workspace('summary', { 'summary.md': '' })
    const temp = workspace('tmp')
    const before = listing(cwd)
    const run = audit(cwd, { 'task-definition': 'task.json', sarif: 'audit.sarif' }, { GITHUB_STEP_SUMMARY: join(summaryDir, 'summary.md'), TMPDIR: temp })
    expect(run.stdout).toMatch(/sudoers read from \d+ layers/)
    expect(listing(cwd).filter(entry => !before.includes(entry)).map(entry => entry.split(' ')[0])).toEqual(['audit.sarif'])
    expect(readdirSync(run.runnerTemp)).toEqual(['github-output'])
    expect(readdirSync(temp)).toEqual([])
    // The job summary has the table, one row per finding.
    const summary = readFileSync(join(summaryDir, 'summary.md'), 'utf8')
    for (const [rule] of testCase.findings) expect(summary).toMatch(new RegExp(`^\\| ${rule} [A-Za-z]+ \\|`, 'm'))
  })
})

// ------------------------------------------------------------------ 6. the gate and suppressions

describe('fail-on, the findings output and suppressions', () => {
  const errors = seedCases[0] // nginx-root-sidecar: LWF004 (error) and LWF005 (warning)
  let warningsOnly: string
  let withErrors: string
  beforeAll(() => {
    warningsOnly = fixture('root-sidecar.json', { APP: IMAGES.nginx, AGENT: IMAGES.agent }) // LWF005 alone
    withErrors = remapSeed(errors)
  })

  it.each([
    ['warnings only', 'not given', 0, ['LWF005']],
    ['warnings only', 'error', 0, ['LWF005']],
    ['warnings only', 'warning', 1, ['LWF005']],
    ['warnings only', 'never', 0, ['LWF005']],
    ['an error and a warning', 'not given', 1, ['LWF004', 'LWF005']],
    ['an error and a warning', 'error', 1, ['LWF004', 'LWF005']],
    ['an error and a warning', 'warning', 1, ['LWF004', 'LWF005']],
    ['an error and a warning', 'never', 0, ['LWF004', 'LWF005']]
  ] as [string, string, number, string[]][])('%s, fail-on %s: exit %i', (kind, given, status, rules) => {
    const failOn = given === 'not given' ? undefined : given
    const cwd = workspace('gate', { 'task.json': kind === 'warnings only' ? warningsOnly : withErrors })
    const run = audit(cwd, { 'task-definition': 'task.json', ...(failOn ? { 'fail-on': failOn } : {}) })
    expect(run.status).toBe(status)
    expect(counts(run)).toEqual(expectedCounts(rules))
    expect(annotations(run).map(item => item.rule).sort()).toEqual(rules)
    if (status === 1) expect(run.stdout).toContain(`::error::audit: ${expectedCounts(rules).error} error(s), ${expectedCounts(rules).warning} warning(s), 0 note(s) (fail-on: ${failOn ?? 'error'})`)
    else expect(run.stdout).not.toMatch(/^::error::audit:/m)
  })

  it('audit-ignore suppresses a rule: reported as suppressed, in SARIF too, and it no longer fails the gate', () => {
    const cwd = workspace('ignore', { 'task.json': withErrors })
    const run = audit(cwd, { 'task-definition': 'task.json', 'audit-ignore': 'LWF004', sarif: 'audit.sarif' })
    expect(run.status).toBe(0)
    expect(counts(run)).toEqual({ error: 0, warning: 1, note: 0, suppressed: 1 })
    expect(annotations(run).map(item => item.rule)).toEqual(['LWF005'])
    expect(run.stdout).toMatch(/^LWF004 container nginx: .*\(suppressed: audit-ignore names LWF004\)$/m)
    const token = readSarif(join(cwd, 'audit.sarif')).runs[0].results.find(result => result.ruleId === 'LWF004') as SarifResult
    expect(token.suppressions).toEqual([{ kind: 'external', status: 'accepted', justification: 'audit-ignore names LWF004', properties: { by: 'input' } }])
    // Both ignored: fail-on warning passes too.
    const both = audit(cwd, { 'task-definition': 'task.json', 'audit-ignore': 'LWF004,LWF005', 'fail-on': 'warning' })
    expect(both.status).toBe(0)
    expect(counts(both)).toEqual({ error: 0, warning: 0, note: 0, suppressed: 2 })
  })

  it("the container's docker label suppresses for that container only", () => {
    const labelled = (container: string): string => {
      const definition = JSON.parse(withErrors) as { containerDefinitions: { name: string; dockerLabels?: Record<string, string> }[] }
      const target = definition.containerDefinitions.find(item => item.name === container) as { dockerLabels?: Record<string, string> }
      target.dockerLabels = { 'lacework-fargate.ignore': 'LWF004' }
      return JSON.stringify(definition, null, 4)
    }
    const cwd = workspace('label', { 'app.json': labelled('nginx'), 'sidecar.json': labelled('datacollector-sidecar') })
    const run = audit(cwd, { 'task-definition': 'app.json', sarif: 'audit.sarif' })
    expect(run.status).toBe(0)
    expect(counts(run)).toEqual({ error: 0, warning: 1, note: 0, suppressed: 1 })
    expect(run.stdout).toMatch(/^LWF004 container nginx: .*\(suppressed: lacework-fargate\.ignore names LWF004\)$/m)
    const token = readSarif(join(cwd, 'audit.sarif')).runs[0].results.find(result => result.ruleId === 'LWF004') as SarifResult
    expect(token.suppressions?.[0].properties).toEqual({ by: 'label' })
    // The near miss: the label on another container leaves the app's finding, and the gate, as they were.
    const other = audit(cwd, { 'task-definition': 'sidecar.json' })
    expect(other.status).toBe(1)
    expect(counts(other)).toEqual(expectedCounts(['LWF004', 'LWF005']))
  })
})

// ------------------------------------------------------------------ 7. what the sudoers read costs

describe("LWF008's read of the images' layers", () => {
  let proxy: FaultProxy
  beforeAll(async () => {
    proxy = await startFaultProxy(REGISTRY)
  })
  afterAll(async () => {
    await proxy.close()
  })

  it('streams each layer once per run, shared layers once for both images, and keeps nothing on disk', async () => {
    // Two non-root images that share their base layers: the unprivileged nginx, and the seed's sudo image on it.
    const images = [IMAGES.unprivileged, SEED_IMAGES.nonrootSidecar]
    const blobs = await Promise.all(images.map(manifestBlobs))
    const layers = blobs.map(blob => blob.layers)
    const shared = layers[0].filter(digest => layers[1].includes(digest))
    const all = new Set(layers.flat())
    expect(shared.length).toBeGreaterThanOrEqual(3)
    expect(all.size).toBeLessThan(layers[0].length + layers[1].length)

    const viaProxy = (reference: string): string => reference.replace(REGISTRY, proxy.registry)
    const agent = `${viaProxy(IMAGES.agent)}@${digestOf(IMAGES.agent)}`
    const cwd = workspace('layers', {
      'a/task.json': fixture('sudo-wrapper-sidecar.json', { APP: viaProxy(images[0]), AGENT: agent }),
      'b/task.json': fixture('sudo-wrapper-sidecar.json', { APP: viaProxy(images[1]), AGENT: agent })
    })
    const temp = workspace('layers-tmp')
    const before = listing(cwd)
    proxy.reset()
    const run = await runActionAsync({ 'task-definition': `${cwd}/*/task.json`, audit: 'true' }, { ...DOCKER_ENV, TMPDIR: temp })
    // The seed's image lets user 101 become root; the plain one has no sudo.
    expect(annotations(run).map(item => [item.file.endsWith('b/task.json') ? 'b' : 'a', item.rule])).toEqual([['b', 'LWF008']])

    const blobGets = proxy.requests.filter(request => request.method === 'GET' && /\/blobs\/sha256:/.test(request.path)).map(request => request.path.split('/blobs/')[1])
    const perLayer = [...all].map(digest => [digest, blobGets.filter(got => got === digest).length])
    expect(perLayer.filter(([, count]) => count !== 1)).toEqual([])
    // Nothing else was asked for but the two images' configs and the agent's, once each.
    const agentConfig = (await manifestBlobs(IMAGES.agent)).config
    expect(blobGets.filter(digest => !all.has(digest)).sort()).toEqual([...blobs.map(blob => blob.config), agentConfig].sort())
    expect(run.stdout).toContain(`sudoers read from ${all.size} layers`)

    // No daemon: the engine did not pull them; nothing written but the output file, no temporary file left.
    for (const image of images) expect(dockerStatus(['image', 'inspect', viaProxy(image)]).status).not.toBe(0)
    expect(listing(cwd)).toEqual(before)
    expect(readdirSync(run.runnerTemp)).toEqual(['github-output'])
    expect(readdirSync(temp)).toEqual([])
  })
})
