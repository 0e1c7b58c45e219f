import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runActionAsync, type ActionRun } from './support/action.js'
import { startGitHubApi, type GitHubApi } from './support/github-api.js'
import { filesUnder, leakFinder, logTail, type Surface } from './support/leak-scan.js'
import { IMAGES, REGISTRY, requireServices } from './support/test-env.js'

// Leak scan: a recognisable Lacework token goes into the bundled action, run for every pattern against the real
// engine and registry with everything that can print turned on (pull_request review comment, job summary, step
// debug logging). The token may appear only in the written task-definition file, and only when the plaintext
// input put it there; with the secret input, a plaintext token already in the file must be masked everywhere.

const TOKEN = 'LEAKCANARY_0123456789abcdefXYZ'
const GITHUB_TOKEN = 'ghs_leakScanGitHubToken0123456789abcdef'
const SECRET_ARN = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
const WORK = process.env.LWF_TEST_DIR ?? '/tmp/lwf-test'
const event = join(ROOT, '__tests__/github/fixtures/pull_request.opened.json')
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
].join(', ')

interface Case {
  pattern: string
  plain: string
  image: string
  mode: 'sidecar' | 'embedded'
  strategy: 'sudo' | 'run-as-root'
  builds: boolean
}

const cases: Case[] = [
  { pattern: 'root-sidecar', plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'sidecar', strategy: 'sudo', builds: false },
  { pattern: 'root-embedded', plain: 'nginx-root.json', image: IMAGES.nginx, mode: 'embedded', strategy: 'sudo', builds: true },
  { pattern: 'nonroot-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'sidecar', strategy: 'sudo', builds: true },
  { pattern: 'nonroot-embedded', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'embedded', strategy: 'sudo', builds: true },
  { pattern: 'nonroot-as-root-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.unprivileged, mode: 'sidecar', strategy: 'run-as-root', builds: false }
]

const findLeak = leakFinder(TOKEN)
let api: GitHubApi

beforeAll(async () => {
  await requireServices()
  api = await startGitHubApi({ token: GITHUB_TOKEN })
})
afterAll(async () => api?.close())

/** Removes every tag of `repository` from the local registry, so the run builds and pushes again. */
async function forgetRepository(repository: string): Promise<void> {
  const list = await fetch(`http://${REGISTRY}/v2/${repository}/tags/list`)
  if (list.status === 404) return
  const { tags } = (await list.json()) as { tags?: string[] | null }
  for (const tag of tags ?? []) {
    const head = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST_TYPES } })
    const digest = head.headers.get('docker-content-digest')
    if (!head.ok || !digest) continue
    const deleted = await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' })
    if (deleted.status !== 202 && deleted.status !== 404) throw new Error(`DELETE ${repository}@${digest}: ${deleted.status}`)
  }
}

/** The manifest and config blob a run pushed (`registry/repo@sha256:…`), as the registry serves them. */
async function pushedImage(reference: string): Promise<Surface[]> {
  const [name, digest] = reference.replace(`${REGISTRY}/`, '').split('@')
  const manifestResponse = await fetch(`http://${REGISTRY}/v2/${name}/manifests/${digest}`, { headers: { Accept: MANIFEST_TYPES } })
  expect(manifestResponse.status).toBe(200)
  const manifest = await manifestResponse.text()
  const config = (JSON.parse(manifest) as { config?: { digest: string } }).config
  const surfaces = [{ name: `registry manifest ${reference}`, text: manifest }]
  if (config) {
    const blob = await fetch(`http://${REGISTRY}/v2/${name}/blobs/${config.digest}`)
    surfaces.push({ name: `registry config blob of ${reference} (env, labels, history)`, text: await blob.text() })
  }
  return surfaces
}

interface Scan {
  run: ActionRun
  written: string
  surfaces: Surface[]
}

/** Runs the action once for `testCase` with every output on, and collects every place it wrote to. */
async function scan(testCase: Case, token: 'plaintext' | 'secret', expectedStatus = 0): Promise<Scan> {
  const work = mkdtempSync(join(tmpdir(), `lwf-leak-${testCase.pattern}-`))
  const input = join(work, `${testCase.pattern}-${token}.json`)
  const definition = JSON.parse(readFileSync(join(ROOT, 'examples', testCase.plain), 'utf8'))
  definition.containerDefinitions[0].image = testCase.image
  // The secret case: a plaintext token is already in the file, and the secret input is to replace it.
  if (token === 'secret') definition.containerDefinitions[0].environment = [{ name: 'LaceworkAccessToken', value: TOKEN }]
  writeFileSync(input, JSON.stringify(definition, null, 4))
  const summary = join(work, 'step-summary.md')
  writeFileSync(summary, '')
  // The action's own temporary files (a build context, anything else) land here, to be read afterwards.
  const temp = join(work, 'tmp')
  mkdirSync(temp)
  const target = `${REGISTRY}/lwf-leak/${testCase.pattern}`
  if (testCase.builds) await forgetRepository(`lwf-leak/${testCase.pattern}`)
  const logs = ['registry.log', 'dockerd.log'].map(name => ({ name, tail: logTail(join(WORK, name)) }))
  const requestsBefore = api.requests.length

  const run = await runActionAsync(
    {
      'task-definition': input,
      mode: testCase.mode,
      'non-root-strategy': testCase.strategy,
      'agent-image': IMAGES.agent,
      'target-image': target,
      'lacework-server-url': 'https://api.fra.lacework.net',
      ...(token === 'plaintext' ? { 'lacework-access-token': TOKEN } : { 'lacework-access-token-secret': SECRET_ARN }),
      'github-token': GITHUB_TOKEN
    },
    {
      GITHUB_API_URL: api.url,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/payments-service',
      GITHUB_RUN_ID: '4242',
      RUNNER_DEBUG: '1',
      ACTIONS_STEP_DEBUG: 'true',
      TMPDIR: temp
    }
  )
  if (run.status !== expectedStatus) throw new Error(`action exited ${run.status}, not ${expectedStatus}:\n${run.stdout}\n${run.stderr}`)
  const written = run.outputs['task-definition']
  // The runner consumes ::add-mask:: lines itself: they never reach the log.
  const logged = (text: string): string =>
    text
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
  const surfaces: Surface[] = [
    { name: 'stdout (the job log)', text: logged(run.stdout) },
    { name: 'stderr', text: logged(run.stderr) },
    { name: 'outputs', text: JSON.stringify(run.outputs) },
    ...filesUnder(run.runnerTemp, 'RUNNER_TEMP').filter(file => file.name !== `RUNNER_TEMP/lacework-fargate/${input.split('/').pop()}`),
    ...filesUnder(temp, 'TMPDIR'),
    ...filesUnder(work, 'work dir').filter(file => file.name !== `work dir/${input.split('/').pop()}` && !file.name.startsWith('work dir/tmp/')),
    ...api.requests.slice(requestsBefore).map((request, i) => ({
      name: `GitHub API request ${i + 1} (${request.method} ${request.path})`,
      text: `${request.method} ${request.path}\n${JSON.stringify(request.headers)}\n${request.body}`
    })),
    ...logs.map(log => ({ name: `${log.name} (during the run)`, text: log.tail.since() }))
  ]
  if (testCase.builds && run.outputs.image) surfaces.push(...(await pushedImage(run.outputs.image)))
  return { run, written, surfaces }
}

function leaks(surfaces: Surface[]): string[] {
  return surfaces.flatMap(surface => {
    const found = findLeak(surface.text)
    return found ? [`${surface.name}: ${found}`] : []
  })
}

describe('the leak finder', () => {
  it('finds the token as is, with escaping backslashes, and base64-encoded at any alignment', () => {
    expect(findLeak('no secret here')).toBeUndefined()
    expect(findLeak(`x ${TOKEN} y`)).toMatch(/^as is/)
    expect(findLeak(`| ${TOKEN.replace(/_/g, '\\_')} |`)).toMatch(/^escaped/)
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      expect(findLeak(`Authorization: Basic ${Buffer.from(`${prefix}${TOKEN}:x`).toString('base64')}`)).toMatch(/^base64/)
    }
  })
})

describe.each(cases)('leak scan: $pattern', testCase => {
  it('lacework-access-token (plaintext): the token is in the written task definition and nowhere else', async () => {
    const { run, written, surfaces } = await scan(testCase, 'plaintext')
    expect(run.outputs.pattern).toBe(`nginx=${testCase.pattern}`)
    // The scan looks where something was written: a comment, a summary, a build when the pattern has one.
    expect(surfaces.find(surface => surface.name === 'RUNNER_TEMP/github-output')?.text).toContain('task-definition<<')
    expect(surfaces.filter(surface => surface.name.startsWith('GitHub API request')).map(surface => surface.name.split(' (')[1])).toContainEqual(
      expect.stringMatching(/^(POST|PATCH) \/repos\/acme\/payments-service\/issues\//)
    )
    expect(surfaces.find(surface => surface.name === 'work dir/step-summary.md')?.text).toContain(testCase.pattern)
    if (testCase.builds) expect(run.stdout).toMatch(testCase.mode === 'embedded' && testCase.pattern.startsWith('root') ? /built through the registry/ : /docker build/)
    // The canary is found where it is meant to be: the scan would see it anywhere else.
    expect(findLeak(readFileSync(written, 'utf8'))).toBeDefined()
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`)
    expect(leaks(surfaces)).toEqual([])
  })

  it('lacework-access-token-secret: a plaintext token already in the file is masked everywhere', async () => {
    const { run, written, surfaces } = await scan(testCase, 'secret')
    expect(run.outputs.changed).toBe('true')
    // The secret replaces the plaintext token, so the written file holds it no more either.
    const app = JSON.parse(readFileSync(written, 'utf8')).containerDefinitions[0]
    expect(app.secrets).toEqual([{ name: 'LaceworkAccessToken', valueFrom: SECRET_ARN }])
    expect(findLeak(readFileSync(written, 'utf8'))).toBeUndefined()
    // The diff shows its removal masked, and the runner is told to mask it too.
    expect(surfaces.find(surface => surface.name === 'work dir/step-summary.md')?.text).toMatch(/^-\s+"value": "\*\*\*"/m)
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`)
    expect(leaks(surfaces)).toEqual([])
  })
})

describe('leak scan: a failing build', () => {
  it('an image with no package manager fails the sudo build: the error and the build log tail show no token', async () => {
    const failing: Case = { pattern: 'nonroot-sidecar', plain: 'nginx-nonroot.json', image: IMAGES.busybox, mode: 'sidecar', strategy: 'sudo', builds: true }
    for (const token of ['plaintext', 'secret'] as const) {
      const { run, surfaces } = await scan(failing, token, 1)
      expect(run.stdout).toMatch(/^::error.*docker build of .* failed: the image has no package manager/m)
      expect(run.outputs['task-definition']).toBeUndefined()
      expect(run.stdout).toContain(`::add-mask::${TOKEN}`)
      expect(leaks(surfaces)).toEqual([])
    }
  })
})
