import { readFileSync } from 'node:fs'
import { INPUT_NAMES } from '../src/context.js'

// action.yml and the code must name the same inputs, or a documented input would be silently ignored.
describe('action.yml', () => {
  const manifest = readFileSync(new URL('../action.yml', import.meta.url), 'utf8')
  const declared = [...manifest.split('outputs:')[0].matchAll(/^ {2}([a-z-]+):$/gm)].map(match => match[1])

  it('declares exactly the inputs the code reads', () => {
    expect([...declared].sort()).toEqual([...INPUT_NAMES].sort())
  })
  it('runs the bundle on node24', () => {
    expect(manifest).toMatch(/using: node24\n\s+main: dist\/index\.js/)
  })
})
