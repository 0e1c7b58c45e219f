import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { localFiles } from '../../src/adapters/files/local-files.js'
import type { InputName } from '../../src/app/context.js'
import type { SourceLocation } from '../../src/core/errors.js'
import { run } from '../../src/main.js'
import { CORPUS, TOKEN, corpus, prepareCase } from '../support/bad-input-corpus.js'
import { MemoryHost, fakeServices } from '../support/fakes.js'

// The bad-input corpus (__tests__/bad-inputs/cases.json) in the fast tier: every case that needs no Docker engine or
// registry runs `run` in this process, on a copy of its task definition in a fresh folder, with the real file system
// and no engine or registry behind the fakes. It must end as the full tier's run of the bundle ends
// (__tests__/bad-inputs.test.ts): the one expected error, failed, the input byte-identical, nothing written.

/** The workflow command @actions/core writes for an error (toolkit's command.ts: escapeData, escapeProperty). */
function errorCommand(message: string, location?: SourceLocation): string {
  const data = (text: string): string => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
  const property = (text: string): string => data(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
  const properties = location
    ? Object.entries({ file: location.file, line: location.line, col: location.column })
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${property(String(value))}`)
        .join(',')
    : ''
  return `::error${properties ? ` ${properties}` : ''}::${data(message)}`
}

const inProcess = corpus.cases.filter(testCase => !testCase.services)

it('runs every case of the corpus but those that need a registry or engine', () => {
  expect(inProcess.length).toBeGreaterThanOrEqual(corpus.cases.length - 2)
})

describe.each(inProcess)('$file', testCase => {
  it('fails with the one expected error, the input untouched, nothing written', async () => {
    const { dir, copied, inputs: given, error } = prepareCase(testCase, '127.0.0.1:5000')
    const inputs = given as Partial<Record<InputName, string>>
    const outputFolder = join(mkdtempSync(join(tmpdir(), 'lwf-bad-inputs-out-')), 'lacework-fargate')
    const host = new MemoryHost(inputs, { outputFolder })

    await run(host, fakeServices({ files: localFiles }))

    expect(host.errors.map(failure => errorCommand(failure.message, failure.location))).toEqual([error])
    expect(host.failed).toBe(true)
    for (const name of copied) expect(readFileSync(join(dir, name))).toEqual(readFileSync(join(CORPUS, name)))
    expect(readdirSync(dir).sort()).toEqual([...copied].sort())
    expect(existsSync(outputFolder)).toBe(false)
    expect(host.outputs).toEqual({})
    expect(JSON.stringify([host.infos, host.warnings, host.errors])).not.toContain(TOKEN)
  })
})
