import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { diffArrays } from 'diff'
import * as jsonc from 'jsonc-parser'
import { isNode, parse as parseYaml, parseDocument } from 'yaml'
import { ROOT, runActionAsync, type ActionRun } from './support/action.js'
import { deployActionRequest } from './support/deploy-action.js'
import { ecsModel, formatErrors, validateRegisterTaskDefinition, type ModelError } from './support/ecs-model.js'
import { asksForFargate, validateFargateTask } from './support/fargate-rules.js'

// Issue 15: the 25 real task definitions of __tests__/fixtures/world, each through the bundled action (Node 24, dry run,
// saved image facts, no Docker engine). Each file's outcome is decided in EXPECTED below from reading the file and its
// saved image facts, never from a run: instrumented (which containers, which pattern), refused (where, naming what),
// or nothing to instrument (plumbing only). Every run must end cleanly either way; a written file must keep the
// input's layout, register through amazon-ecs-deploy-task-definition with no problem the input did not already have
// (AWS's ECS model, Fargate's rules, ECS's memory rule), and come out byte-identical from a second run.

const WORLD = join(ROOT, '__tests__/fixtures/world')
const FACTS = join(WORLD, 'image-inspect.json')
const SECRET = 'arn:aws:ssm:eu-central-1:123456789012:parameter/lacework/token'
const TARGET = '123456789012.dkr.ecr.eu-central-1.amazonaws.com/lacework-built'
/** What a pipeline puts where a template has a placeholder: a root image whose facts are added to a copy of FACTS. */
const NEW_IMAGE = '123456789012.dkr.ecr.eu-central-1.amazonaws.com/shop/app:1.0'
// No engine: every fact must come from the saved inspect output (a dead socket, so a stray look-up fails, not hangs).
const NO_DOCKER = { DOCKER_HOST: 'unix:///nonexistent/lwf-world-corpus/docker.sock' }

type Path = (string | number)[]
type Expectation =
  /** Exit 0, changed=true; `patterns` is the pattern output, container by container; every other container keeps its text. */
  | { outcome: 'instrumented'; patterns: Record<string, string> }
  /** Exit 1, one ::error annotated at the line of `at`, its message containing every one of `mentions`; nothing written. */
  | { outcome: 'refused'; at: Path; mentions: (string | RegExp)[] }
  /** Exit 0, changed=false, the file written unchanged, one warning. */
  | { outcome: 'nothing' }

interface Expected {
  run: Expectation
  /** FireLens routers and vendor agents/proxies: reported "not instrumented" in the review whenever the run succeeds. */
  plumbing?: string[]
  /** A template's container whose image a pipeline fills in: run again with `image: NEW_IMAGE` and `container-name` it. */
  withImage?: string
}

const root = (...names: string[]): Record<string, string> => Object.fromEntries(names.map(name => [name, 'root-sidecar']))
const image = (index: number, reference: string): Expectation => ({
  outcome: 'refused',
  at: ['containerDefinitions', index, 'image'],
  mentions: [`containerDefinitions[${index}].image`, reference]
})

// Decided from the files and image-inspect.json (README "Where task definitions come from", and the rules in
// /work/shared/REFERENCE.md §1: an empty, "root" or "0" user is root, anything else non-root; the sudo strategy is the default).
const EXPECTED: Record<string, Expected> = {
  // FireLens router + nginx (User ""): the app only.
  '01-firelens-emf-bridge-tabs.json': { run: { outcome: 'instrumented', patterns: root('app') }, plumbing: ['fluentbit'] },
  // FireLens router + httpd (User "").
  '02-firelens-datadog-logs.json': { run: { outcome: 'instrumented', patterns: root('app') }, plumbing: ['log_router'] },
  // httpd:2.4 (User ""), entryPoint sh -c.
  '03-deploy-action-sample.json': { run: { outcome: 'instrumented', patterns: root('sample-app') } },
  // A console copy with read-only fields; its image has User "".
  '04-deploy-action-console-copy.json': { run: { outcome: 'instrumented', patterns: root('test') } },
  // The only essential container is the ADOT collector; the three apps are essential: false.
  '05-adot-fargate-sidecar.json': { run: { outcome: 'nothing' }, plumbing: ['aws-otel-collector'] },
  // busybox is fine, but newrelic-infra (essential by default) has a placeholder image that nobody can look up.
  '06-newrelic-fargate-sidecar.json': { run: image(1, '<INTEGRATION_IMAGE>'), withImage: 'newrelic-infra' },
  '07-newrelic-ec2-daemon.json': { run: image(0, '<INTEGRATION_IMAGE>'), withImage: 'newrelic-infra' },
  // Only the Datadog agent (its placeholders are the family and the API key, not the image).
  '08-datadog-agent-fargate.json': { run: { outcome: 'nothing' }, plumbing: ['datadog-agent'], withImage: 'datadog-agent' },
  // A Windows EC2 task, but nothing says so (no operatingSystemFamily, Linux image facts) and it is plumbing only.
  '09-datadog-agent-windows.json': { run: { outcome: 'nothing' }, plumbing: ['datadog-agent'] },
  // describe-task-definition output whose image is an ecspresso template (spaces, backticks): not a reference.
  '10-ecspresso-describe-with-tags.json': {
    run: { outcome: 'refused', at: ['taskDefinition', 'containerDefinitions', 0, 'image'], mentions: ['katsubushi/katsubushi:{{ env `TAG` `latest` }}'] },
    withImage: 'katsubushi'
  },
  '11-ecspresso-secrets-templated.json': { run: image(0, 'nginx:{{ env `NGINX_VERSION` `latest` }}'), withImage: 'nginx' },
  // YAML, `command: null`; nginx:1 has User "", nginx:2 User "101".
  '12-pipecd-ec2-bridge.yaml': { run: { outcome: 'instrumented', patterns: root('web') } },
  '13-pipecd-fargate.yaml': { run: { outcome: 'instrumented', patterns: { web: 'nonroot-sidecar' } } },
  // Windows images (Os "windows" in the saved facts): the agent runs on Linux only.
  '14-gmsa-windows-ec2.json': { run: { outcome: 'refused', at: ['containerDefinitions', 0], mentions: ['containermvc-web:latest', /windows/i] } },
  // CRLF; the image's User is "1000:1000".
  '15-fastapi-template.json': { run: { outcome: 'instrumented', patterns: { 'fastapi-sample-backend': 'nonroot-sidecar' } } },
  '16-devops-workshop-placeholder.json': { run: image(0, '<PLACEHOLDER>'), withImage: 'fargate_task_container' },
  // Free-text template values ("my app") are the input's business; nginx has User "".
  '17-bg-external-controller.json': { run: { outcome: 'instrumented', patterns: root('my app') } },
  // The collector is the only essential container.
  '18-ecs-anywhere-otel.json': { run: { outcome: 'nothing' }, plumbing: ['aws-otel-collector'] },
  // The app container is *named* firelens but is nginx without firelensConfiguration: the app.
  '19-ecs-anywhere-firelens.json': { run: { outcome: 'instrumented', patterns: root('firelens') }, plumbing: ['log_router'] },
  // "user": null → the image's User "node"; the Envoy proxy is left alone.
  '20-appmesh-console-export.json': { run: { outcome: 'instrumented', patterns: { 'sample-app-mesh-svc1-v1': 'nonroot-sidecar' } }, plumbing: ['envoy'] },
  '21-ecs-agent-windows-healthcheck.json': {
    run: { outcome: 'refused', at: ['containerDefinitions', 0], mentions: ['amazon/amazon-ecs-containerhealthcheck:make', /windows/i] }
  },
  // The plugin validator is not an Envoy image; User "".
  '22-ecs-agent-appmesh-validator.json': { run: { outcome: 'instrumented', patterns: root('app-mesh') } },
  // Both images are placeholders; the first one stops the run.
  '23-xray-fargate-sidecar.json': { run: image(0, '<repository_uri_service_a>'), withImage: 'service-a' },
  // "user": null → the image's User "calitp".
  '24-cal-itp-console-export.json': { run: { outcome: 'instrumented', patterns: { 'cal-itp-test': 'nonroot-sidecar' } } },
  // Three essential containers of one root image.
  '25-linkerd-mesh-workshop.json': { run: { outcome: 'instrumented', patterns: root('hello', 'world', 'world-v2') } }
}

interface Source {
  file: string
  kinds: string[]
}
const SOURCES = JSON.parse(readFileSync(join(WORLD, 'SOURCES.json'), 'utf8')) as Source[]
const FILES = readdirSync(WORLD).filter(name => /^\d{2}-.*\.(json|ya?ml)$/.test(name)).sort()
const isYaml = (name: string): boolean => /\.ya?ml$/.test(name)

// ------------------------------------------------------------------------------------------------- running

interface Run {
  name: string
  input: string
  inputs: Record<string, string>
  /** The copy the action read, its folder, and the folder it may write into. */
  file: string
  dir: string
  output: string
  action: ActionRun
  summary: string
  written?: string
  /** The action run on its own output, with the same inputs. */
  again?: { action: ActionRun; written?: string }
}

async function runOne(name: string, extra: Record<string, string>): Promise<Run> {
  const base = mkdtempSync(join(tmpdir(), 'lwf-world-'))
  const dir = join(base, 'in')
  mkdirSync(dir)
  const file = join(dir, name)
  copyFileSync(join(WORLD, name), file)
  const output = join(base, 'out', name)
  const summaryFile = join(base, 'summary.md')
  writeFileSync(summaryFile, '')
  const inputs = {
    'dry-run': 'true',
    'pin-agent-image': 'false',
    'image-inspect-file': FACTS,
    'lacework-access-token-secret': SECRET,
    'target-image': TARGET,
    ...extra
  }
  const action = await runActionAsync({ 'task-definition': file, output, ...inputs }, { ...NO_DOCKER, GITHUB_STEP_SUMMARY: summaryFile })
  const run: Run = { name, input: readFileSync(join(WORLD, name), 'utf8'), inputs, file, dir, output, action, summary: readFileSync(summaryFile, 'utf8') }
  if (action.status !== 0 || !existsSync(output)) return run
  run.written = readFileSync(output, 'utf8')
  const output2 = join(base, 'again', name)
  const factsAgain = join(base, 'image-inspect.json')
  writeFileSync(factsAgain, JSON.stringify(factsOfBuilds(name, run.input, run.written, inputs['image-inspect-file'], extra.image)))
  const again = await runActionAsync({ 'task-definition': output, output: output2, ...inputs, 'image-inspect-file': factsAgain }, NO_DOCKER)
  run.again = { action: again, written: existsSync(output2) ? readFileSync(output2, 'utf8') : undefined }
  return run
}

interface Inspect {
  RepoTags: string[]
  Config: Record<string, unknown>
}

/**
 * The saved facts for a second run: those of the first, and for each image a dry run only named (TARGET:lacework-…,
 * the tag a build would have pushed) the facts that build would have: the sudo-enabled image keeps its base's User,
 * Entrypoint and Cmd (src/core/dockerfile.ts). A real second run reads them from the registry the first run pushed to.
 */
function factsOfBuilds(name: string, input: string, written: string, factsFile: string, newImage: string | undefined): Inspect[] {
  const facts = JSON.parse(readFileSync(factsFile, 'utf8')) as Inspect[]
  const before = containerImages(name, input)
  const built: Inspect[] = []
  for (const [container, image] of containerImages(name, written)) {
    if (!image.startsWith(`${TARGET}:lacework-`)) continue
    const base = newImage ?? before.get(container)
    const entry = facts.find(fact => fact.RepoTags.includes(base ?? ''))
    if (entry) built.push({ ...entry, RepoTags: [image] })
  }
  return [...facts, ...built]
}

/** Runs `jobs` at most `width` at a time: two cores, and each run is a Node process. */
async function pool(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]()
  }
  await Promise.all(Array.from({ length: width }, worker))
}

const runs = new Map<string, Run>()
const imageRuns = new Map<string, Run>()

beforeAll(async () => {
  ecsModel() // fails at once, naming python3-botocore, when AWS's model is missing
  const facts = JSON.parse(readFileSync(FACTS, 'utf8')) as unknown[]
  const config = { User: '', Entrypoint: ['/usr/local/bin/app'], Cmd: ['serve'] }
  facts.push({ RepoTags: [NEW_IMAGE], RepoDigests: [], Architecture: 'amd64', Os: 'linux', Config: config })
  const factsWithNewImage = join(mkdtempSync(join(tmpdir(), 'lwf-world-facts-')), 'image-inspect.json')
  writeFileSync(factsWithNewImage, JSON.stringify(facts, null, 2))
  const jobs = [
    ...FILES.map(name => async () => void runs.set(name, await runOne(name, {}))),
    ...FILES.filter(name => EXPECTED[name]?.withImage).map(name => async () => {
      const container = EXPECTED[name].withImage as string
      imageRuns.set(name, await runOne(name, { image: NEW_IMAGE, 'container-name': container, 'image-inspect-file': factsWithNewImage }))
    })
  ]
  await pool(jobs, 4)
}, 600_000)

// ------------------------------------------------------------------------------------------------- reading

type Json = Record<string, unknown>

function parseText(name: string, text: string): unknown {
  return isYaml(name) ? parseYaml(text) : JSON.parse(text)
}

/** The task definition in a document: describe-task-definition output wraps it in `taskDefinition`. */
function prefixOf(doc: unknown): Path {
  return typeof doc === 'object' && doc !== null && typeof (doc as Json).taskDefinition === 'object' ? ['taskDefinition'] : []
}

/** Each container's name and image, in order. */
function containerImages(name: string, text: string): Map<string, string> {
  const doc = parseText(name, text) as Json
  const definition = (prefixOf(doc).length ? doc.taskDefinition : doc) as Json
  return new Map((definition.containerDefinitions as Json[]).map(container => [container.name as string, container.image as string]))
}

const containerNames = (name: string, text: string): string[] => [...containerImages(name, text).keys()]

/** [start, end) of the node at `path`, the key of a property included where `withKey`. */
function span(name: string, text: string, path: Path, withKey = false): [number, number] {
  if (isYaml(name)) {
    const node = parseDocument(text).getIn(path, true)
    if (!isNode(node) || !node.range) throw new Error(`${name}: nothing at ${path.join('.')}`)
    return [node.range[0], node.range[1]]
  }
  const node = jsonc.findNodeAtLocation(jsonc.parseTree(text) as jsonc.Node, path)
  if (!node) throw new Error(`${name}: nothing at ${path.join('.')}`)
  const start = withKey && node.parent?.type === 'property' ? node.parent.offset : node.offset
  return [start, node.offset + node.length]
}

const lineAt = (text: string, offset: number): number => text.slice(0, offset).split('\n').length

/** The text of the container called `container`. */
function containerText(name: string, text: string, container: string): string {
  const index = containerNames(name, text).indexOf(container)
  if (index < 0) throw new Error(`${name}: no container ${container}`)
  const [start, end] = span(name, text, [...prefixOf(parseText(name, text)), 'containerDefinitions', index])
  return text.slice(start, end)
}

/** Lines with their terminators. */
const linesOf = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? []
const ending = (line: string): string => (line.endsWith('\r\n') ? '\r\n' : line.endsWith('\n') ? '\n' : '')
const indentOf = (line: string): string => (/^[ \t]*/.exec(line) as RegExpExecArray)[0]
const blank = (line: string): boolean => line.trim() === ''

/** The line break most lines of `text` end with. */
function dominantEnding(text: string): string {
  const crlf = text.split('\r\n').length - 1
  return crlf > text.split('\n').length - 1 - crlf ? '\r\n' : '\n'
}

/**
 * Where a line's content starts: its indentation, and in YAML the `- ` of list items too (`  - name: x` holds a map
 * whose keys start at column 4), so a nested line's step is measured from its parent's keys.
 */
function contentIndent(line: string, yaml: boolean): string {
  const indent = indentOf(line)
  if (!yaml) return indent
  const dashes = (/^(?:- +)*/.exec(line.slice(indent.length)) as RegExpExecArray)[0]
  return indent + ' '.repeat(dashes.length)
}

/** Each line's indentation step from the line above it, where it goes one level deeper ('\t', '  ', …); `only` filters the lines. */
function indentSteps(lines: string[], yaml: boolean, only: (index: number) => boolean = () => true): Map<number, string> {
  const steps = new Map<number, string>()
  let previous: string | undefined
  lines.forEach((line, index) => {
    if (blank(line)) return
    const indent = indentOf(line)
    if (only(index) && previous !== undefined && indent.length > previous.length && indent.startsWith(previous)) steps.set(index, indent.slice(previous.length))
    previous = contentIndent(line, yaml)
  })
  return steps
}

/** The indices of the lines of `after` that are not lines of `before`. */
function addedLines(before: string, after: string): Set<number> {
  const added = new Set<number>()
  let index = 0
  for (const change of diffArrays(linesOf(before), linesOf(after))) {
    if (change.removed) continue
    for (let i = 0; i < change.value.length; i++, index++) if (change.added) added.add(index)
  }
  return added
}

const key = (error: ModelError): string => `${error.path}: ${error.message}`

/** What RegisterTaskDefinition would receive from the deploy action; a describe output's definition alone. */
function request(name: string, text: string): Json {
  const doc = parseText(name, text) as Json
  return deployActionRequest(prefixOf(doc).length ? JSON.stringify(doc.taskDefinition) : text)
}

/**
 * ECS's rule for tasks without a task-level memory (the ECS model's ContainerDefinition.memory: "If using the EC2 launch
 * type, you must specify either a task-level memory value or a container-level memory value"): RegisterTaskDefinition
 * refuses a container with neither `memory` nor `memoryReservation`.
 */
function memoryProblems(body: Json): string[] {
  if (body.memory !== undefined) return []
  return ((body.containerDefinitions ?? []) as Json[])
    .filter(container => container.memory === undefined && container.memoryReservation === undefined)
    .map(container => `container ${String(container.name)} has neither memory nor memoryReservation, and the task has no memory`)
}

function pattern(output: string | undefined): Record<string, string> {
  if (!output) return {}
  return Object.fromEntries(output.split(',').map(entry => [entry.slice(0, entry.lastIndexOf('=')), entry.slice(entry.lastIndexOf('=') + 1)]))
}

const lines = (text: string, prefix: string): string[] => text.split('\n').filter(line => line.startsWith(prefix))
const STACK = /\bat .+:\d+:\d+\)?($|%0A)/m

/** The summary's table row for `container` (markdown may escape its characters). */
function summaryRow(summary: string, container: string): string | undefined {
  const name = [...container].map(char => `\\\\?${char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).join('')
  return summary.split('\n').find(line => new RegExp(`^\\| ${name} \\|`).test(line))
}

// ------------------------------------------------------------------------------------------------- checks

/** No crash, whatever the outcome: one status, no stack trace, no "unexpected failure", the input untouched. */
function expectNoCrash(run: Run): void {
  expect([0, 1]).toContain(run.action.status)
  expect(`${run.action.stdout}\n${run.action.stderr}`).not.toMatch(STACK)
  expect(run.action.stdout).not.toContain('unexpected failure')
  expect(readFileSync(run.file, 'utf8')).toBe(run.input)
}

function expectRefused(run: Run, expected: Extract<Expectation, { outcome: 'refused' }>): void {
  const errors = lines(run.action.stdout, '::error')
  expect(errors).toHaveLength(1)
  expect(run.action.status).toBe(1)
  const line = lineAt(run.input, span(run.name, run.input, expected.at, true)[0])
  expect(errors[0]).toMatch(new RegExp(`^::error file=${run.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},line=${line},col=\\d+::`))
  const message = errors[0].slice(errors[0].indexOf('::', 2) + 2)
  for (const mention of expected.mentions) {
    if (typeof mention === 'string') expect(message).toContain(mention)
    else expect(message).toMatch(mention)
  }
  // Nothing written, no outputs.
  expect(readdirSync(run.dir)).toEqual([run.name])
  expect(existsSync(run.output)).toBe(false)
  expect(existsSync(join(run.action.runnerTemp, 'lacework-fargate'))).toBe(false)
  expect(run.action.outputs).toEqual({})
}

function expectWritten(run: Run): string {
  expect(lines(run.action.stdout, '::error')).toEqual([])
  expect(run.action.status).toBe(0)
  expect(run.action.outputs['task-definition']).toBe(run.output)
  expect(run.written).toBeDefined()
  return run.written as string
}

/** The written file looks like the input: same indentation unit, line breaks, final newline (or none), format. */
function expectLayoutKept(run: Run, written: string): void {
  const before = linesOf(run.input)
  const after = linesOf(written)
  const added = addedLines(run.input, written)
  // The final line break, or its absence, as it was.
  expect(ending(after[after.length - 1])).toBe(ending(before[before.length - 1]))
  // Added lines break lines as most of the file does (the last line of the file excepted: checked above).
  const eol = dominantEnding(run.input)
  const badBreaks = [...added].filter(index => index < after.length - 1 && ending(after[index]) !== eol).map(index => after[index])
  expect(badBreaks).toEqual([])
  // Added lines indent with the file's character (tabs or spaces), one level at a time by a step the file uses.
  const tabs = indentOf(before.find(line => /^[ \t]+\S/.test(line)) ?? '').startsWith('\t')
  const wrongCharacter = [...added].filter(index => !blank(after[index]) && !(tabs ? /^\t*$/ : /^ *$/).test(indentOf(after[index])))
  expect(wrongCharacter.map(index => after[index])).toEqual([])
  const yaml = isYaml(run.name)
  const known = new Set(indentSteps(before, yaml).values())
  // A ragged file (02 puts sibling containers at 8 and 9 spaces) may be followed: a new list element (`{`, `- `) may line
  // up with an element the file already has; what it holds must then step as the file does.
  const element = (line: string): string => (/^[{-]/.test(line.trim()) ? `${indentOf(line)}${line.trim()[0]}` : '')
  const elements = new Set(after.filter((_, index) => !added.has(index)).map(element).filter(Boolean))
  const steps = [...indentSteps(after, yaml, index => added.has(index))]
  const unknownSteps = steps.filter(([index, step]) => !known.has(step) && !elements.has(element(after[index])))
  expect(unknownSteps.map(([index, step]) => `${JSON.stringify(step)} before ${after[index].trim()}`)).toEqual([])
  // The format stays: JSON stays JSON, YAML stays (block) YAML.
  if (yaml) {
    expect(() => parseYaml(written)).not.toThrow()
    expect(() => JSON.parse(written)).toThrow()
  } else {
    expect(() => JSON.parse(written)).not.toThrow()
  }
}

/** What the deploy action registers from the output has no problem that the input's request did not already have. */
function expectRegistrable(run: Run, written: string): void {
  const before = request(run.name, run.input)
  const after = request(run.name, written)
  const known = new Set(validateRegisterTaskDefinition(before).map(key))
  expect(formatErrors(validateRegisterTaskDefinition(after).filter(error => !known.has(key(error))))).toBe('')
  if (asksForFargate(before) || asksForFargate(after)) {
    const knownFargate = new Set(validateFargateTask(before).map(key))
    expect(formatErrors(validateFargateTask(after).filter(problem => !knownFargate.has(key(problem))))).toBe('')
  }
}

/** The same for ECS's memory rule, which neither the model's shapes nor Fargate's rules state. */
function expectMemorySet(run: Run, written: string): void {
  const known = new Set(memoryProblems(request(run.name, run.input)))
  expect(memoryProblems(request(run.name, written)).filter(problem => !known.has(problem))).toEqual([])
}

function expectIdempotent(run: Run, written: string): void {
  const again = run.again
  expect(again).toBeDefined()
  if (!again) return
  expect(lines(again.action.stdout, '::error')).toEqual([])
  expect(again.action.status).toBe(0)
  expect(again.written).toBe(written)
  expect(again.action.outputs.changed).toBe('false')
}

function expectInstrumented(run: Run, patterns: Record<string, string>, plumbing: string[]): string {
  const written = expectWritten(run)
  expect(run.action.outputs.changed).toBe('true')
  expect(pattern(run.action.outputs.pattern)).toEqual(patterns)
  // Every container the action does not instrument keeps its text, placeholders and nulls included.
  const untouched = containerNames(run.name, run.input).filter(container => !(container in patterns))
  for (const container of untouched) expect(containerText(run.name, written, container)).toBe(containerText(run.name, run.input, container))
  expectPlumbingReported(run, plumbing)
  return written
}

function expectPlumbingReported(run: Run, plumbing: string[]): void {
  for (const container of plumbing) {
    const row = summaryRow(run.summary, container)
    expect(row ?? `no row for ${container} in the summary:\n${run.summary}`).toContain('not instrumented')
  }
}

// ------------------------------------------------------------------------------------------------- tests

describe('the table', () => {
  it('decides every file of the corpus, and the kinds agree with the issue', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(FILES)
    expect(FILES).toHaveLength(25)
    const kinds = new Map(SOURCES.map(source => [source.file, source.kinds]))
    for (const name of FILES) {
      const has = (kind: string): boolean => (kinds.get(name) ?? []).includes(kind)
      // Nulls mean "not set": never a reason to refuse.
      if (has('nulls')) expect([name, EXPECTED[name].run.outcome]).not.toEqual([name, 'refused'])
      // A placeholder template is run again with the image a pipeline would put in.
      if (has('placeholder')) expect([name, EXPECTED[name].withImage]).not.toEqual([name, undefined])
      // FireLens routers are plumbing.
      if (has('firelens')) expect(EXPECTED[name].plumbing?.length ?? 0).toBeGreaterThan(0)
    }
  })
})

/** The checks every written file must pass; `get` gives the run once beforeAll has made it. */
function writtenFileChecks(get: () => Run): void {
  it('keeps the indentation unit, line breaks, final newline and format', () => {
    const run = get()
    expectLayoutKept(run, expectWritten(run))
  })

  it('registers through the deploy action with no model or Fargate problem the input did not have', () => {
    const run = get()
    expectRegistrable(run, expectWritten(run))
  })

  it('gives every container a memory when the task has none, as ECS requires outside Fargate', () => {
    const run = get()
    expectMemorySet(run, expectWritten(run))
  })

  it('comes out byte-identical, changed=false, from a second run on its own output', () => {
    const run = get()
    expectIdempotent(run, expectWritten(run))
  })
}

describe.each(FILES)('%s', name => {
  const expected = EXPECTED[name]

  it(`ends as decided: ${expected.run.outcome}`, () => {
    const run = runs.get(name) as Run
    expectNoCrash(run)
    switch (expected.run.outcome) {
      case 'refused':
        return expectRefused(run, expected.run)
      case 'nothing': {
        const written = expectWritten(run)
        expect(written).toBe(run.input)
        expect(run.action.outputs.changed).toBe('false')
        const warnings = lines(run.action.stdout, '::warning')
        expect(warnings).toHaveLength(1)
        for (const container of expected.plumbing ?? []) expect(warnings[0]).toContain(container)
        return expectPlumbingReported(run, expected.plumbing ?? [])
      }
      case 'instrumented':
        return void expectInstrumented(run, expected.run.patterns, expected.plumbing ?? [])
    }
  })

  if (expected.run.outcome !== 'refused') writtenFileChecks(() => runs.get(name) as Run)

  if (expected.withImage) {
    const container = expected.withImage
    describe(`with image ${NEW_IMAGE} and container-name ${container}`, () => {
      it('instruments that container with the new image and leaves the others as they were', () => {
        const run = imageRuns.get(name) as Run
        expectNoCrash(run)
        const written = expectInstrumented(run, { [container]: 'root-sidecar' }, [])
        expect(containerImages(name, written).get(container)).toBe(NEW_IMAGE)
      })

      writtenFileChecks(() => imageRuns.get(name) as Run)
    })
  }
})
