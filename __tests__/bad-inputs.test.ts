import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, extname, join } from 'node:path'
import { ROOT, runAction } from './support/action.js'
import { REGISTRY, requireServices } from './support/test-env.js'

// The bad-input corpus (__tests__/bad-inputs/cases.json): every case runs the bundled action, the way a runner
// does, on a copy of its task definition in a fresh folder, and must end with exit status 1 and exactly one
// ::error line — the expected one, naming the file, field or image, with the annotation on the file's line where
// there is one — leaving the input byte-identical, no other file beside it, no output file and no outputs.

const CORPUS = join(ROOT, '__tests__/bad-inputs')
const TOKEN = 'badInputsCorpusToken_0123456789abcdef'

interface BadInput {
  /** The task definition as given, in the corpus folder. */
  file: string
  /** What the case shows, when the name does not say it all. */
  about?: string
  /** Action inputs over the corpus defaults; an empty string unsets a default. */
  inputs?: Record<string, string>
  /** Further corpus files copied beside the task definition (e.g. saved inspect output). */
  files?: string[]
  /** The case needs the Docker engine and the test registry. */
  services?: boolean
  /** The one ::error line expected, exactly. */
  error: string
}

interface Corpus {
  defaults: Record<string, string>
  cases: BadInput[]
}

const corpus = JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as Corpus

/** Replaces the corpus placeholders: $FILE, $DIR, $CASE, $ROOT, $REGISTRY, $TOKEN. */
function expand(text: string, places: { file: string; dir: string; name: string }): string {
  return text
    .replaceAll('$CASE', places.name)
    .replaceAll('$FILE', places.file)
    .replaceAll('$DIR', places.dir)
    .replaceAll('$ROOT', ROOT.replace(/\/$/, ''))
    .replaceAll('$REGISTRY', REGISTRY)
    .replaceAll('$TOKEN', TOKEN)
}

describe('the corpus', () => {
  it('holds at least 40 cases, each with its files, and no file that no case uses', () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(40)
    const used = new Set(['cases.json', ...corpus.cases.flatMap(c => [c.file, ...(c.files ?? [])])])
    expect(readdirSync(CORPUS).filter(name => !used.has(name))).toEqual([])
    for (const name of used) expect(existsSync(join(CORPUS, name))).toBe(true)
    expect(new Set(corpus.cases.map(c => c.file)).size).toBe(corpus.cases.length)
  })
})

describe.each(corpus.cases)('$file', testCase => {
  it('exits 1 with the one expected error, the input untouched, nothing written', async () => {
    if (testCase.services) await requireServices()
    const dir = mkdtempSync(join(tmpdir(), 'lwf-bad-inputs-'))
    const copied = [testCase.file, ...(testCase.files ?? [])]
    for (const name of copied) copyFileSync(join(CORPUS, name), join(dir, name))
    const places = { file: join(dir, testCase.file), dir, name: basename(testCase.file, extname(testCase.file)) }
    const inputs = Object.fromEntries(
      Object.entries({ 'task-definition': '$FILE', ...corpus.defaults, ...testCase.inputs }).map(([name, value]) => [name, expand(value, places)])
    )

    const run = runAction(inputs)

    const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
    expect(errors).toEqual([expand(testCase.error, places)])
    expect(run.status).toBe(1)
    for (const name of copied) expect(readFileSync(join(dir, name))).toEqual(readFileSync(join(CORPUS, name)))
    expect(readdirSync(dir).sort()).toEqual([...copied].sort())
    expect(existsSync(join(run.runnerTemp, 'lacework-fargate'))).toBe(false)
    expect(run.outputs).toEqual({})
    // The runner takes ::add-mask:: lines itself; the token is in no other line.
    expect(run.stdout.split('\n').filter(line => !line.startsWith('::add-mask::')).join('\n')).not.toContain(TOKEN)
    expect(run.stderr).not.toContain(TOKEN)
  })
})
