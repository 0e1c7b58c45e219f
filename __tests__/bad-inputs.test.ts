import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { runAction } from './support/action.js'
import { CORPUS, TOKEN, corpus, prepareCase } from './support/bad-input-corpus.js'
import { REGISTRY, requireServices } from './support/test-env.js'

// The bad-input corpus (__tests__/bad-inputs/cases.json): every case runs the bundled action, the way a runner
// does, on a copy of its task definition in a fresh folder, and must end with exit status 1 and exactly one
// ::error line — the expected one, naming the file, field or image, with the annotation on the file's line where
// there is one — leaving the input byte-identical, no other file beside it, no output file and no outputs.
// (The fast tier runs the same cases in-process: __tests__/unit/bad-inputs.test.ts.)

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
    const { dir, copied, inputs, error } = prepareCase(testCase, REGISTRY)

    const run = runAction(inputs)

    const errors = run.stdout.split('\n').filter(line => line.startsWith('::error'))
    expect(errors).toEqual([error])
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
