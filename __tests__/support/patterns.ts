import { patternName, type NonRootStrategy, type Pattern, type Placement } from '../../src/core/pattern.js'

/** Every pattern there is, written out as values. */
export const ALL_PATTERNS: Pattern[] = (['sidecar', 'embedded'] as Placement[]).flatMap(placement => [
  { appUser: 'root' as const, placement },
  ...(['sudo', 'run-as-root', 'drop-privileges'] as NonRootStrategy[]).map(strategy => ({ appUser: 'non-root' as const, strategy, placement }))
])

/** The pattern a test names as the seed does (`nonroot-sidecar`): looked up among all values, never parsed. */
export function patternNamed(name: string): Pattern {
  const found = ALL_PATTERNS.find(pattern => patternName(pattern) === name)
  if (!found) throw new Error(`no pattern is named ${name}`)
  return found
}
