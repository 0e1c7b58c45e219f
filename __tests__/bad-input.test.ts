import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction } from './support/action.js'
import { IMAGES, REGISTRY, docker, requireServices } from './support/test-env.js'

// Bad input: one clear line naming the file, field or image, an annotation on the file's line where there is
// one, exit status 1, the input untouched and no output file.

const TOKEN = 'badInputToken_0123456789ab'
// The unprivileged nginx without util-linux's setpriv (busybox will not do: its sh runs a setpriv applet).
const NO_SETPRIV = `${REGISTRY}/lwf-bad/no-setpriv:1`

interface BadCase {
  name: string
  file: string
  inputs?: Record<string, string>
  env?: Record<string, string>
  /** The ::error line the runner receives, exactly. */
  error: string | RegExp
}

function plain(image: string, extra: Record<string, unknown> = {}): string {
  const td = JSON.parse(readFileSync(join(ROOT, 'examples/nginx-root.json'), 'utf8'))
  Object.assign(td.containerDefinitions[0], { image, ...extra })
  return `${JSON.stringify(td, null, 2)}\n`
}

const cases: BadCase[] = [
  {
    name: 'malformed JSON, with line and column',
    file: '{\n  "family": "web",\n  "containerDefinitions": [\n    { "name": "web" "image": "x" }\n  ]\n}\n',
    error: '::error file=$FILE,line=4,col=21::$FILE:4:21: malformed JSON: comma expected'
  },
  {
    name: 'an unknown container, listing the names that exist',
    file: plain(IMAGES.nginx),
    inputs: { 'container-name': 'api' },
    error: '::error file=$FILE,line=2,col=3::$FILE:2:3: no container named "api" (containers: nginx)'
  },
  {
    name: 'both token inputs',
    file: plain(IMAGES.nginx),
    inputs: { 'lacework-access-token-secret': 'arn:aws:ssm:eu-central-1:123456789012:parameter/lw' },
    error: '::error::input lacework-access-token: give lacework-access-token-secret or lacework-access-token, not both'
  },
  {
    name: 'neither token input, and no token in the task definition',
    file: plain(IMAGES.nginx),
    inputs: { 'lacework-access-token': '' },
    error: '::error file=$FILE,line=3,col=5::$FILE:3:5: container nginx has no LaceworkAccessToken; give lacework-access-token-secret (or lacework-access-token)'
  },
  {
    name: 'an image that is neither local nor in the registry',
    file: plain(`${REGISTRY}/lwf-test/does-not-exist:1`),
    error: `::error::image ${REGISTRY}/lwf-test/does-not-exist:1: not found in registry ${REGISTRY} (HTTP 404)`
  },
  {
    name: 'the same with inspect: docker, which pulls',
    file: plain(`${REGISTRY}/lwf-test/does-not-exist:1`),
    inputs: { inspect: 'docker' },
    error: new RegExp(`^::error::image ${REGISTRY}/lwf-test/does-not-exist:1: not found locally and docker pull failed: .*not found`)
  },
  {
    name: 'an unreachable registry',
    file: plain('127.0.0.1:59999/lwf-test/nginx:1'),
    error: '::error::registry 127.0.0.1:59999, repository lwf-test/nginx: GET manifest 1 failed after 5 attempts: connection to 127.0.0.1:59999 refused (ECONNREFUSED)'
  },
  {
    name: 'a sudo build on an image without a package manager, with the cause from the build log',
    file: plain(IMAGES.busybox, { portMappings: [] }),
    error: new RegExp(
      `^::error::docker build of ${REGISTRY}/lwf-bad/web:lacework-[0-9a-f]{16} failed: the image has no package manager \\(apt-get, apk, microdnf, dnf, yum\\) to install sudo$`
    )
  },
  {
    name: 'drop-privileges on an image with none of setpriv, su-exec, gosu',
    file: plain(NO_SETPRIV),
    inputs: { 'non-root-strategy': 'drop-privileges' },
    error: `::error::image ${NO_SETPRIV}: has none of setpriv, su-exec, gosu: drop-privileges cannot run the app as 101; add one (util-linux's setpriv, su-exec or gosu) or use the sudo strategy`
  },
  {
    name: 'a bad mode',
    file: plain(IMAGES.nginx),
    inputs: { mode: 'inline' },
    error: '::error::input mode: must be one of sidecar, embedded, not "inline"'
  },
  {
    name: 'a pattern that needs a build without target-image',
    file: plain(IMAGES.unprivileged),
    inputs: { 'target-image': '' },
    error: '::error::input target-image: is required: container nginx needs a built image (pattern nonroot-sidecar)'
  },
  {
    name: 'a container that runs nothing (no entrypoint or command in image or task definition)',
    file: plain('registry.example/empty:1'),
    inputs: { 'image-inspect-file': '$INSPECT' },
    error: '::error file=$FILE,line=3,col=5::$FILE:3:5: container nginx: neither the task definition nor image registry.example/empty:1 sets an entrypoint or command'
  },
  {
    name: 'a missing task definition file',
    file: '',
    inputs: { 'task-definition': '/nonexistent/task.json' },
    error: '::error file=/nonexistent/task.json::/nonexistent/task.json: cannot read the task definition (ENOENT)'
  }
]

beforeAll(async () => {
  await requireServices()
  const context = mkdtempSync(join(tmpdir(), 'lwf-no-setpriv-'))
  writeFileSync(join(context, 'Dockerfile'), `FROM ${IMAGES.unprivileged}\nUSER root\nRUN rm -f /usr/bin/setpriv\nUSER 101\n`)
  docker(['build', '--quiet', '--tag', NO_SETPRIV, context])
})

describe.each(cases)('$name', testCase => {
  it('fails with one clear line, touches nothing, writes nothing', () => {
    const work = mkdtempSync(join(tmpdir(), 'lwf-bad-'))
    mkdirSync(join(work, 'deploy'))
    const file = join(work, 'deploy', 'task.json')
    writeFileSync(file, testCase.file)
    const inspect = join(work, 'inspect.json')
    writeFileSync(inspect, JSON.stringify([{ RepoTags: ['registry.example/empty:1'], Config: { User: '', Entrypoint: null, Cmd: null } }]))
    const inputs = Object.fromEntries(Object.entries(testCase.inputs ?? {}).map(([name, value]) => [name, value.replace('$INSPECT', inspect)]))
    const run = runAction(
      {
        'task-definition': file,
        'agent-image': IMAGES.agent,
        'lacework-access-token': TOKEN,
        'target-image': `${REGISTRY}/lwf-bad/web`,
        ...inputs
      },
      testCase.env
    )
    expect(run.status).toBe(1)
    const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
    expect(errors).toHaveLength(1)
    if (typeof testCase.error === 'string') expect(errors[0]).toBe(testCase.error.replaceAll('$FILE', file))
    else expect(errors[0]).toMatch(testCase.error)
    expect(readFileSync(file, 'utf8')).toBe(testCase.file)
    expect(readdirSync(join(work, 'deploy'))).toEqual(['task.json'])
    expect(readdirSync(work).sort()).toEqual(['deploy', 'inspect.json'])
    expect(existsSync(join(run.runnerTemp, 'lacework-fargate'))).toBe(false)
    expect(run.outputs).toEqual({})
    // The runner consumes ::add-mask:: itself and shows the token in no log line.
    expect(run.stdout.split('\n').filter(line => !line.startsWith('::add-mask::')).join('\n')).not.toContain(TOKEN)
  })
})

it('the sudo build failure shows the build log tail before the error', () => {
  const work = mkdtempSync(join(tmpdir(), 'lwf-bad-'))
  const file = join(work, 'task.json')
  copyFileSync(join(ROOT, 'examples/nginx-root.json'), file)
  writeFileSync(file, plain(IMAGES.busybox))
  const run = runAction({ 'task-definition': file, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN, 'target-image': `${REGISTRY}/lwf-bad/web` })
  expect(run.status).toBe(1)
  expect(run.stdout).toMatch(/lacework-fargate: the image has no package manager[^\n]*\n(.*\n)*::error::docker build/)
})
