import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './support/action.js'

// The action runs dist/, not src/: a bundle that is not rebuilt from the current source must fail the suite.
describe('dist/ is the bundle of the current source', () => {
  const out = mkdtempSync(join(tmpdir(), 'lwf-dist-'))
  const bundles: [string, string][] = [
    ['src/index.ts', 'index.js'],
    ['src/cli.ts', 'cli/index.js']
  ]

  it.each(bundles)('%s → dist/%s', (entry, file) => {
    const dir = join(out, file.includes('/') ? 'cli' : 'action')
    execFileSync(join(ROOT, 'node_modules/.bin/ncc'), ['build', entry, '-o', dir, '--license', 'licenses.txt', '--quiet'], { cwd: ROOT, stdio: 'pipe' })
    const fresh = readFileSync(join(dir, 'index.js'), 'utf8')
    const committed = readFileSync(join(ROOT, 'dist', file), 'utf8')
    expect(committed === fresh).toBe(true)
  })
})
