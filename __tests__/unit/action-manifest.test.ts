import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { INPUT_NAMES } from '../../src/app/context.js'

// action.yml and the code must name the same inputs, or a documented input would be silently ignored; and it must
// be YAML a runner can load at all (a ": " inside a plain scalar is not).
describe('action.yml', () => {
  const text = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')
  const manifest = parse(text, { strict: true, uniqueKeys: true }) as {
    name: string
    description: string
    inputs: Record<string, { description: string; required?: boolean; default?: string }>
    outputs: Record<string, { description: string }>
    runs: { using: string; main: string }
    branding: { icon: string; color: string }
  }

  it('is valid YAML with a description for every input and output', () => {
    for (const [name, input] of Object.entries(manifest.inputs)) expect([name, typeof input.description]).toEqual([name, 'string'])
    for (const [name, output] of Object.entries(manifest.outputs)) expect([name, typeof output.description]).toEqual([name, 'string'])
  })
  it('declares exactly the inputs the code reads', () => {
    expect(Object.keys(manifest.inputs).sort()).toEqual([...INPUT_NAMES].sort())
  })
  it('runs the bundle on node24', () => {
    expect(manifest.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })

  // The Marketplace's publish form refuses these; nothing else checks them before a release is cut.
  it('fits the Marketplace: a description under 125 characters, a branding colour and icon it accepts', () => {
    expect(manifest.name.length).toBeGreaterThan(0)
    expect(manifest.description.length).toBeLessThan(125)
    expect(['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']).toContain(manifest.branding.color)
    // Feather icons GitHub leaves out of action branding.
    const omitted = ['coffee', 'columns', 'divide-circle', 'divide-square', 'divide', 'frown', 'hexagon', 'key', 'meh', 'mouse-pointer', 'smile', 'tool', 'x-octagon']
    expect(omitted).not.toContain(manifest.branding.icon)
    expect(manifest.branding.icon).toMatch(/^[a-z0-9-]+$/)
  })
})
