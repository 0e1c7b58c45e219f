import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { ROOT, runAction } from './support/action.js'
import { IMAGES, REGISTRY, docker, requireServices } from './support/test-env.js'

// Several task definitions in one step: a glob, outputs as JSON maps, and each distinct image looked up once
// (counted in the real registry's own access log).

const TOKEN = 'manyFilesToken_0123456789'
const REGISTRY_LOG = join(process.env.LWF_TEST_DIR ?? '/tmp/lwf-test', 'registry.log')

beforeAll(requireServices)

it('a glob over three files, six containers, two distinct images: two look-ups, one map per output', () => {
  const id = randomUUID().slice(0, 8)
  const imageA = `${REGISTRY}/lwf-many/${id}-a:1`
  const imageB = `${REGISTRY}/lwf-many/${id}-b:1`
  for (const [source, copy] of [[IMAGES.nginx, imageA], [IMAGES.unprivileged, imageB]]) {
    docker(['tag', source, copy])
    docker(['push', '--quiet', copy])
  }
  const base = JSON.parse(readFileSync(join(ROOT, 'examples/nginx-root.json'), 'utf8'))
  const deploy = mkdtempSync(join(tmpdir(), 'lwf-many-'))
  const files = ['a', 'b', 'c'].map((service, i) => {
    mkdirSync(join(deploy, service))
    const file = join(deploy, service, 'task-def.json')
    const container = base.containerDefinitions[0]
    const images = i === 2 ? [imageA, imageA] : [imageA, imageB]
    const td = { ...base, family: service, containerDefinitions: images.map((image, j) => ({ ...container, name: `app${j}`, image, portMappings: [] })) }
    writeFileSync(file, JSON.stringify(td, null, 2))
    return file
  })
  const run = runAction({
    'task-definition': `${deploy}/**/task-def.json`,
    inspect: 'registry',
    'non-root-strategy': 'run-as-root',
    'agent-image': IMAGES.agent,
    'lacework-access-token': TOKEN
  })
  if (run.status !== 0) throw new Error(run.stdout)

  const keys = files.map(file => relative(ROOT, file))
  const written = JSON.parse(run.outputs['task-definition'])
  expect(Object.keys(written)).toEqual(keys)
  for (const key of keys) expect(existsSync(written[key])).toBe(true)
  expect(new Set(Object.values(written)).size).toBe(3)
  expect(JSON.parse(run.outputs.pattern)).toEqual({
    [keys[0]]: 'app0=root-sidecar,app1=nonroot-as-root-sidecar',
    [keys[1]]: 'app0=root-sidecar,app1=nonroot-as-root-sidecar',
    [keys[2]]: 'app0=root-sidecar,app1=root-sidecar'
  })
  expect(run.outputs.changed).toBe('true')
  const c = JSON.parse(readFileSync(written[keys[2]], 'utf8'))
  expect(c.containerDefinitions.map((container: { name: string }) => container.name)).toEqual(['app0', 'app1', 'datacollector-sidecar'])

  const log = readFileSync(REGISTRY_LOG, 'utf8')
  const manifestGets = (repository: string): number => log.split('\n').filter(line => line.includes(`"GET /v2/${repository}/manifests/`)).length
  expect(manifestGets(`lwf-many/${id}-a`)).toBe(1)
  expect(manifestGets(`lwf-many/${id}-b`)).toBe(1)
})

it('a glob that matches nothing is an error', () => {
  const run = runAction({ 'task-definition': '/nonexistent/**/task-def.json', 'lacework-access-token': TOKEN })
  expect(run.status).toBe(1)
  expect(run.stdout).toContain('::error::input task-definition: /nonexistent/**/task-def.json matches no file')
})
