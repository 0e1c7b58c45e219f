import { keepsAppUser, patternName, type Pattern } from '../../../src/core/pattern.js'

// A pattern is a value; its display name is derived, never parsed. The names are the seed's, written out here.
const named: [Pattern, string, boolean][] = [
  [{ appUser: 'root', placement: 'sidecar' }, 'root-sidecar', false],
  [{ appUser: 'root', placement: 'embedded' }, 'root-embedded', false],
  [{ appUser: 'non-root', strategy: 'sudo', placement: 'sidecar' }, 'nonroot-sidecar', true],
  [{ appUser: 'non-root', strategy: 'sudo', placement: 'embedded' }, 'nonroot-embedded', true],
  [{ appUser: 'non-root', strategy: 'run-as-root', placement: 'sidecar' }, 'nonroot-as-root-sidecar', false],
  [{ appUser: 'non-root', strategy: 'run-as-root', placement: 'embedded' }, 'nonroot-as-root-embedded', false],
  [{ appUser: 'non-root', strategy: 'drop-privileges', placement: 'sidecar' }, 'nonroot-drop-sidecar', true],
  [{ appUser: 'non-root', strategy: 'drop-privileges', placement: 'embedded' }, 'nonroot-drop-embedded', true]
]

it.each(named)('%j is %s; the app keeps its own user: %s', (pattern, name, keeps) => {
  expect(patternName(pattern)).toBe(name)
  expect(keepsAppUser(pattern)).toBe(keeps)
})

it('gives every pattern its own name', () => {
  expect(new Set(named.map(([pattern]) => patternName(pattern))).size).toBe(named.length)
})
