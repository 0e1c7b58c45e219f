import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The bad-input corpus (__tests__/bad-inputs/cases.json), shared by the fast tier (run in-process) and the full
// tier (the bundled action): each case's files are copied into a fresh folder and its placeholders expanded.

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const CORPUS = join(ROOT, '__tests__/bad-inputs')
export const TOKEN = 'badInputsCorpusToken_0123456789abcdef'

export interface BadInput {
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

export const corpus = JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as { defaults: Record<string, string>; cases: BadInput[] }

/** A case made ready to run: its files copied into `dir`, its inputs and expected error with placeholders filled. */
export interface PreparedCase {
  dir: string
  copied: string[]
  inputs: Record<string, string>
  error: string
}

/** Replaces the corpus placeholders: $FILE, $DIR, $CASE, $ROOT, $REGISTRY, $TOKEN. */
function expand(text: string, places: { file: string; dir: string; name: string }, registry: string): string {
  return text
    .replaceAll('$CASE', places.name)
    .replaceAll('$FILE', places.file)
    .replaceAll('$DIR', places.dir)
    .replaceAll('$ROOT', ROOT.replace(/\/$/, ''))
    .replaceAll('$REGISTRY', registry)
    .replaceAll('$TOKEN', TOKEN)
}

export function prepareCase(testCase: BadInput, registry: string): PreparedCase {
  const dir = mkdtempSync(join(tmpdir(), 'lwf-bad-inputs-'))
  const copied = [testCase.file, ...(testCase.files ?? [])]
  for (const name of copied) copyFileSync(join(CORPUS, name), join(dir, name))
  const places = { file: join(dir, testCase.file), dir, name: basename(testCase.file, extname(testCase.file)) }
  const inputs = Object.fromEntries(Object.entries({ 'task-definition': '$FILE', ...corpus.defaults, ...testCase.inputs }).map(([name, value]) => [name, expand(value, places, registry)]))
  return { dir, copied, inputs, error: expand(testCase.error, places, registry) }
}
