import { readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

// Checks the real-world corpus in fixtures/world itself: task definitions copied verbatim from public repositories.
// A lost file, a kind label the bytes do not back, or an image without saved facts fails here, not in the tests
// that feed the corpus to the action.

const DIR = fileURLToPath(new URL('../fixtures/world/', import.meta.url))
const CORPUS_FILE = /^\d{2}-[a-z0-9-]+\.(json|ya?ml)$/
const LICENSES = new Set(['MIT', 'MIT-0', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', 'ISC', 'CC0-1.0', 'Unlicense', 'MPL-2.0', '0BSD'])

interface Source {
  file: string
  repository: string
  path: string
  commit?: string
  license: string
  licenseFile: string
  kinds: string[]
  note: string
}

interface Inspect {
  RepoTags: string[]
  RepoDigests: unknown[]
  Architecture: string
  Config: { User: unknown; Entrypoint: unknown; Cmd: unknown }
  _facts: string
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Obj = Record<string, Json>

const read = (name: string): string => readFileSync(join(DIR, name), 'utf8')
const sources = JSON.parse(read('SOURCES.json')) as Source[]
const inspect = JSON.parse(read('image-inspect.json')) as Inspect[]
const files = readdirSync(DIR).filter((name) => CORPUS_FILE.test(name)).sort()
const text = new Map(files.map((name) => [name, read(name)]))
const parsed = new Map(files.map((name) => [name, parse(name, text.get(name) ?? '')]))

function parse(name: string, body: string): Json {
  return name.endsWith('.json') ? (JSON.parse(body) as Json) : (parseYaml(body) as Json)
}

const isObj = (value: Json | undefined): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value)
const list = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : [])

/** The task definition itself: describe-task-definition output wraps it in `taskDefinition`. */
function taskDefinition(doc: Json | undefined): Obj {
  if (!isObj(doc)) return {}
  return isObj(doc.taskDefinition) ? doc.taskDefinition : doc
}

function wrapped(name: string): boolean {
  const doc = parsed.get(name)
  return isObj(doc) && isObj(doc.taskDefinition)
}

const containers = (name: string): Obj[] => list(taskDefinition(parsed.get(name)).containerDefinitions).filter(isObj)
const images = (name: string): string[] => containers(name).map((c) => c.image).filter((image): image is string => typeof image === 'string')
const containsNull = (value: Json): boolean => value === null || (typeof value === 'object' && Object.values(value).some(containsNull))

// The reference grammar of distribution/reference (regexp.go): [domain[:port]/]path[:tag][@digest], path lower-case.
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const PATH_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const NAME = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?/)?${PATH_PART}(?:/${PATH_PART})*`
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'
const REFERENCE = new RegExp(`^(${NAME})(?::[\\w][\\w.-]{0,127})?(?:@${DIGEST})?$`)

function isReference(value: string): boolean {
  const match = REFERENCE.exec(value)
  return match !== null && match[1].length <= 255
}

/** The indent kind of a file: what its first indented line starts with. */
function indentKind(body: string): string | undefined {
  const line = body.split(/\r?\n/).find((l) => /^[ \t]+\S/.test(l))
  if (line === undefined) return undefined
  return line.startsWith('\t') ? 'indent-tab' : `indent-${(/^ */.exec(line) ?? [''])[0].length}`
}

function env(container: Obj): string[] {
  return list(container.environment).filter(isObj).map((e) => String(e.name))
}

// What in a file backs each content kind; a kind in SOURCES.json without its evidence is a wrong label.
const EVIDENCE: Record<string, (name: string) => boolean> = {
  // The read-only fields only DescribeTaskDefinition returns, or its `taskDefinition` wrapper.
  'describe-output': (name) => {
    const td = taskDefinition(parsed.get(name))
    return wrapped(name) || 'taskDefinitionArn' in td || 'revision' in td
  },
  'describe-wrapped': (name) => wrapped(name),
  firelens: (name) => containers(name).some((c) => isObj(c.firelensConfiguration)),
  appmesh: (name) => {
    const proxy = taskDefinition(parsed.get(name)).proxyConfiguration
    return (isObj(proxy) && proxy.type === 'APPMESH') || images(name).some((i) => i.includes('aws-appmesh-envoy'))
  },
  datadog: (name) => images(name).some((i) => i.includes('datadog/agent')),
  newrelic: (name) => containers(name).some((c) => String(c.name).includes('newrelic') || String(c.image).includes('newrelic')),
  otel: (name) => images(name).some((i) => i.includes('aws-otel-collector')),
  xray: (name) => containers(name).some((c) => /xray/i.test(String(c.name)) || /xray/i.test(String(c.image)) || env(c).includes('AWS_XRAY_DAEMON_ADDRESS')),
  placeholder: (name) => /<[A-Za-z_][A-Za-z0-9_-]*>/.test(text.get(name) ?? ''),
  template: (name) => (text.get(name) ?? '').includes('{{'),
  'env-vars': (name) => /\$\{?[A-Za-z_][A-Za-z0-9_]*/.test(text.get(name) ?? ''),
  secrets: (name) =>
    containers(name).some((c) => list(c.secrets).length > 0 || (isObj(c.logConfiguration) && list(c.logConfiguration.secretOptions).length > 0)),
  'multi-container': (name) => containers(name).length > 1,
  fargate: (name) => list(taskDefinition(parsed.get(name)).requiresCompatibilities).includes('FARGATE'),
  external: (name) => list(taskDefinition(parsed.get(name)).requiresCompatibilities).includes('EXTERNAL'),
  ec2: (name) => {
    const td = taskDefinition(parsed.get(name))
    const launch = list(td.requiresCompatibilities)
    // Bridge/host networking, links, host-path volumes and dockerSecurityOptions are all EC2-only (Fargate rejects them).
    return launch.includes('EC2') || launch.includes('EXTERNAL') || td.networkMode === 'bridge' || td.networkMode === 'host' ||
      containers(name).some((c) => list(c.links).length > 0 || list(c.dockerSecurityOptions).length > 0) ||
      list(td.volumes).some((v) => isObj(v) && isObj(v.host) && typeof v.host.sourcePath === 'string')
  },
  windows: (name) => {
    const td = taskDefinition(parsed.get(name))
    const family = isObj(td.runtimePlatform) ? String(td.runtimePlatform.operatingSystemFamily) : ''
    const body = text.get(name) ?? ''
    return family.startsWith('WINDOWS_SERVER') || body.includes('pipe\\\\') || /powershell/i.test(body) || body.includes('credentialspec:')
  },
  'registry-port': (name) => images(name).some((i) => /^[^/]+:[0-9]+\//.test(i)),
  linkerd: (name) => (text.get(name) ?? '').includes('http_proxy=')
}

// Kinds read off the bytes: the label must be there exactly when the bytes show it.
const BYTES: Record<string, (name: string) => boolean> = {
  nulls: (name) => containsNull(parsed.get(name) ?? {}),
  yaml: (name) => /\.ya?ml$/.test(name),
  crlf: (name) => (text.get(name) ?? '').includes('\r\n'),
  'no-final-newline': (name) => !(text.get(name) ?? '').endsWith('\n'),
  'leading-whitespace': (name) => /^\s/.test(text.get(name) ?? '')
}

const INDENTS = ['indent-2', 'indent-4', 'indent-tab']
const byFile = new Map(sources.map((s) => [s.file, s]))
const tagged = (kind: string): string[] => sources.filter((s) => s.kinds.includes(kind)).map((s) => s.file)

describe('the corpus files', () => {
  it('are at least 24, each listed once in SOURCES.json, and every entry names a file that is here', () => {
    expect(files.length).toBeGreaterThanOrEqual(24)
    expect(sources.map((s) => s.file).sort()).toEqual(files)
    expect(new Set(sources.map((s) => s.file)).size).toBe(sources.length)
  })

  it('each parse as JSON or YAML and hold containerDefinitions with a name per container', () => {
    for (const name of files) {
      expect({ name, count: containers(name).length > 0 }).toEqual({ name, count: true })
      for (const c of containers(name)) expect(typeof c.name).toBe('string')
    }
  })
})

describe('SOURCES.json', () => {
  it('names the repository, path, commit and a permissive licence of each file, keeping the original extension', () => {
    for (const s of sources) {
      expect(s.repository).toMatch(/^[\w.-]+\/[\w.-]+$/)
      expect(extname(s.file)).toBe(extname(s.path))
      if (s.commit !== undefined) expect(s.commit).toMatch(/^[0-9a-f]{40}$/)
      expect({ file: s.file, license: LICENSES.has(s.license) }).toEqual({ file: s.file, license: true })
      expect(s.licenseFile.length).toBeGreaterThan(0)
      expect(s.note.length).toBeGreaterThan(0)
    }
  })

  it('takes at most two files from one repository, and two only when their kinds differ', () => {
    const byRepo = new Map<string, Source[]>()
    for (const s of sources) byRepo.set(s.repository, [...(byRepo.get(s.repository) ?? []), s])
    for (const [repository, group] of byRepo) {
      expect({ repository, files: group.length <= 2 }).toEqual({ repository, files: true })
      if (group.length === 2) expect([...group[0].kinds].sort()).not.toEqual([...group[1].kinds].sort())
    }
  })

  it('uses only kinds it can back', () => {
    const vocabulary = new Set([...Object.keys(EVIDENCE), ...Object.keys(BYTES), ...INDENTS])
    for (const s of sources) {
      for (const kind of s.kinds) expect({ file: s.file, kind, known: vocabulary.has(kind) }).toEqual({ file: s.file, kind, known: true })
    }
  })

  it('labels the byte-level kinds exactly where the bytes show them', () => {
    for (const name of files) {
      const kinds = byFile.get(name)?.kinds ?? []
      for (const [kind, shows] of Object.entries(BYTES)) expect({ name, kind, labelled: kinds.includes(kind) }).toEqual({ name, kind, labelled: shows(name) })
      expect({ name, indent: kinds.filter((k) => INDENTS.includes(k)) }).toEqual({ name, indent: [indentKind(text.get(name) ?? '')] })
    }
  })

  it('labels a content kind only where the file backs it', () => {
    for (const s of sources) {
      for (const kind of s.kinds.filter((k) => k in EVIDENCE)) {
        expect({ file: s.file, kind, backed: EVIDENCE[kind](s.file) }).toEqual({ file: s.file, kind, backed: true })
      }
    }
  })
})

describe('the kinds the issue asks for', () => {
  it.each([
    ['nulls', 3],
    ['describe-output', 2],
    ['firelens', 2],
    ['appmesh', 2],
    ['placeholder', 2],
    ['indent-2', 1],
    ['indent-4', 1],
    ['indent-tab', 1],
    ['no-final-newline', 2],
    // Found in licensed repositories, so required at the counts: YAML task definitions, Windows tasks, CRLF.
    ['yaml', 2],
    ['windows', 1],
    ['crlf', 1]
  ])('%s: at least %i', (kind, least) => {
    expect(tagged(kind).length).toBeGreaterThanOrEqual(least)
  })

  it('Datadog, New Relic, X-Ray or OpenTelemetry sidecars: at least 3 files', () => {
    expect(sources.filter((s) => s.kinds.some((k) => ['datadog', 'newrelic', 'xray', 'otel'].includes(k))).length).toBeGreaterThanOrEqual(3)
  })
})

describe('image-inspect.json', () => {
  const references = new Set(files.flatMap(images).filter(isReference))

  it('recognises references by the distribution grammar', () => {
    const good = ['nginx', 'nginx:1.23.1', 'docker.io/library/nginx', '127.0.0.1:5000/a/b:c', `repo@sha256:${'a'.repeat(64)}`]
    for (const ok of good) expect(isReference(ok)).toBe(true)
    for (const bad of ['', '<IMAGE1_NAME>', 'nginx:{{ env `TAG` }}', '${REPO}:latest', 'NGINX', 'a b', 'nginx:']) expect(isReference(bad)).toBe(false)
  })

  it('has one entry for every valid image reference in the corpus, written as the corpus writes it, and none for others', () => {
    expect(references.size).toBeGreaterThan(0)
    const tags = inspect.flatMap((entry) => entry.RepoTags)
    expect([...new Set(tags)].sort()).toEqual([...references].sort())
    expect(tags.length).toBe(new Set(tags).size)
  })

  it('gives each entry the fields docker image inspect has, marked known or invented, with root and non-root users', () => {
    for (const entry of inspect) {
      expect(entry.RepoDigests).toEqual([])
      expect(typeof entry.Architecture).toBe('string')
      expect(typeof entry.Config.User).toBe('string')
      for (const field of [entry.Config.Entrypoint, entry.Config.Cmd]) {
        expect(field === null || (Array.isArray(field) && field.every((a) => typeof a === 'string'))).toBe(true)
      }
      expect(['known', 'invented']).toContain(entry._facts)
    }
    const root = (user: unknown): boolean => user === '' || user === '0' || user === 'root' || String(user).startsWith('0:')
    expect(inspect.some((entry) => root(entry.Config.User))).toBe(true)
    expect(inspect.some((entry) => !root(entry.Config.User))).toBe(true)
  })
})
