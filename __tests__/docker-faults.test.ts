import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, runAction, runActionAsync, type ActionRun } from './support/action.js'
import { RegistryServers } from './support/registry-servers.js'
import { IMAGES, docker, requireServices, testEnv } from './support/test-env.js'

// Docker failing under the action: a push the registry refuses, an engine that does not answer, an engine
// that goes away in the middle of a build. Each: one clear error, exit 1, no output file, the input untouched.

const TOKEN = 'dockerFaultsToken_0123456789'
const servers = new RegistryServers()

beforeAll(requireServices)
afterAll(() => servers.stopAll())

function nonRootTask(image = IMAGES.unprivileged): { file: string; text: string } {
  const text = readFileSync(join(ROOT, 'examples/nginx-nonroot.json'), 'utf8').replace('nginxinc/nginx-unprivileged:1.23.1', image)
  const file = join(mkdtempSync(join(tmpdir(), 'lwf-docker-faults-')), 'task.json')
  writeFileSync(file, text)
  return { file, text }
}

function expectCleanFailure(run: ActionRun, task: { file: string; text: string }, error: RegExp): void {
  expect(run.status).toBe(1)
  const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(error)
  expect(readFileSync(task.file, 'utf8')).toBe(task.text)
  expect(readdirSync(join(task.file, '..'))).toEqual(['task.json'])
  expect(readdirSync(run.runnerTemp)).toEqual(['github-output'])
  expect(run.outputs).toEqual({})
}

it('a push the registry refuses: the error names the push, the log tail comes before it', async () => {
  const readOnly = await servers.startRegistry('read-only', '', '  maintenance: {readonly: {enabled: true}}')
  const task = nonRootTask()
  const run = runAction({ 'task-definition': task.file, 'target-image': `${readOnly.registry}/lwf-faults/web`, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN })
  expectCleanFailure(run, task, new RegExp(`^::error::docker push of ${readOnly.registry.replace(/\./g, '\\.')}/lwf-faults/web:lacework-[0-9a-f]{16} failed: .+`))
  expect(run.stdout.indexOf('The push refers to repository')).toBeLessThan(run.stdout.indexOf('::error'))
})

it('an engine that does not answer: the pattern that needs one says so', () => {
  const task = nonRootTask()
  const run = runAction(
    { 'task-definition': task.file, 'target-image': '127.0.0.1:5000/lwf-faults/web', 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN },
    { DOCKER_HOST: 'unix:///tmp/lwf-no-such-docker.sock' }
  )
  expectCleanFailure(run, task, /^::error::container nginx: pattern nonroot-sidecar needs a Docker engine to build its image \(a RUN step installs sudo\): .*Cannot connect to the Docker daemon/)
})

it('an engine that goes away in the middle of a build', async () => {
  // A socket in front of the real engine that passes everything through, but cuts a build off after 300 ms.
  const socket = join(mkdtempSync(join(tmpdir(), 'lwf-dying-docker-')), 'docker.sock')
  const engine = testEnv.DOCKER_HOST.replace('unix://', '')
  const open = new Set<Socket>()
  const front: Server = createServer(client => {
    const upstream = createConnection(engine)
    for (const end of [client, upstream]) {
      open.add(end)
      end.once('close', () => open.delete(end))
    }
    // One side closing closes the other: the engine keeps idle connections open, and one left open to it would
    // keep the jest worker from exiting after the last test.
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
    // The CLI reuses one connection (a ping first), so every chunk is looked at for the build request.
    client.on('data', chunk => {
      upstream.write(chunk)
      if (/(^|\r\n)POST \/[^ ]*\/build/.test(chunk.toString('latin1'))) setTimeout(() => (client.destroy(), upstream.destroy()), 300)
    })
    upstream.pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>(resolve => front.listen(socket, resolve))
  try {
    // A base no build has cached yet, so the build (apt-get install sudo) is still running when the socket is cut.
    const base = `127.0.0.1:5000/lwf-faults/base-${Date.now()}:1`
    const context = mkdtempSync(join(tmpdir(), 'lwf-fresh-base-'))
    writeFileSync(join(context, 'Dockerfile'), `FROM ${IMAGES.unprivileged}\nLABEL lwf.fresh="${base}"\n`)
    docker(['build', '--quiet', '--tag', base, context])
    const task = nonRootTask(base)
    const run = await runActionAsync(
      { 'task-definition': task.file, 'target-image': `127.0.0.1:5000/lwf-faults/dying-${Date.now()}`, 'agent-image': IMAGES.agent, 'lacework-access-token': TOKEN },
      { DOCKER_HOST: `unix://${socket}` }
    )
    expectCleanFailure(run, task, /^::error::docker build of 127\.0\.0\.1:5000\/lwf-faults\/dying-\d+:lacework-[0-9a-f]{16} failed: .+/)
  } finally {
    for (const socket of open) socket.destroy()
    await new Promise(resolve => front.close(resolve))
  }
})
