import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

// examples/workflows/ keeps one ready workflow per pattern, and the self-test workflow runs every one of them: the
// step each holds, through the committed bundle, must give the pattern its file is named after.

const ROOT = process.cwd()
const WORKFLOWS = join(ROOT, 'examples', 'workflows')
const SEED_PATTERNS = ['root-sidecar', 'root-embedded', 'nonroot-sidecar', 'nonroot-embedded', 'nonroot-as-root-sidecar']

function runExamples(...files: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(ROOT, 'scripts', 'run-example-workflow.mjs'), ...files], { cwd: ROOT, encoding: 'utf8' })
}

describe('examples/workflows', () => {
  const files = readdirSync(WORKFLOWS).filter(file => file.endsWith('.yml'))

  it('holds one workflow per seed pattern, and the self-test workflow runs each of them', () => {
    expect(files.map(file => file.replace(/\.yml$/, '')).sort()).toEqual([...SEED_PATTERNS].sort())
    const selfTest = parse(readFileSync(join(ROOT, '.github', 'workflows', 'self-test.yml'), 'utf8'))
    const job = selfTest.jobs['example-workflows']
    expect([...job.strategy.matrix.example].sort()).toEqual([...SEED_PATTERNS].sort())
    expect(job.steps.map((step: { run?: string }) => step.run ?? '')).toContain('node scripts/run-example-workflow.mjs examples/workflows/${{ matrix.example }}.yml')
  })

  it('each gives its pattern when its lacework-fargate step runs through dist/', () => {
    const result = runExamples(...files.map(file => join('examples', 'workflows', file)))
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(SEED_PATTERNS.length)
    for (const pattern of SEED_PATTERNS) expect(lines).toContain(`examples/workflows/${pattern}.yml: nginx=${pattern}, changed true, task diagram in the summary`)
  })

  describe('the runner fails rather than passing a broken example', () => {
    let dir: string
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lwf-example-workflows-'))
    })
    afterEach(() => rmSync(dir, { recursive: true, force: true }))

    it('a workflow whose step gives another pattern than its name', () => {
      // The root-sidecar workflow's inputs, under the name of the embedded pattern.
      copyFileSync(join(WORKFLOWS, 'root-sidecar.yml'), join(dir, 'root-embedded.yml'))
      const result = runExamples(join(dir, 'root-embedded.yml'))
      expect(result.status).toBe(1)
      expect(result.stderr.trim()).toBe(`${join(dir, 'root-embedded.yml')}: pattern output is "nginx=root-sidecar", not <container>=root-embedded`)
    })

    it('an expression the self-test has no stand-in for', () => {
      const text = readFileSync(join(WORKFLOWS, 'root-sidecar.yml'), 'utf8').replace('image: ${{ steps.app.outputs.image }}', 'image: ${{ steps.other.outputs.image }}')
      writeFileSync(join(dir, 'root-sidecar.yml'), text)
      const result = runExamples(join(dir, 'root-sidecar.yml'))
      expect(result.status).toBe(1)
      expect(result.stderr).toContain('input image uses ${{ steps.other.outputs.image }}, which has no stand-in')
    })

    it('a workflow without the action', () => {
      writeFileSync(join(dir, 'root-sidecar.yml'), 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n')
      const result = runExamples(join(dir, 'root-sidecar.yml'))
      expect(result.status).toBe(1)
      expect(result.stderr).toContain('expected one step that uses …/lacework-fargate@vN, found 0')
    })
  })
})
