/**
 * How the agent is put into a container: where it comes from (placement) and, for an app that does not run as root,
 * how the agent — which must start as root (docs/facts.md §2) — gets root. A value, not a string: the display name
 * (`nonroot-as-root-sidecar`, …) is derived from it, never parsed.
 */

/** Where the agent's files come from: a sidecar container's volume, or the image itself. */
export type Placement = 'sidecar' | 'embedded'

/** For an app whose user is not root: a sudo-enabled image, the container run as root, or root only for the agent. */
export type NonRootStrategy = 'sudo' | 'run-as-root' | 'drop-privileges'

export type Pattern =
  /** The app runs as root: the agent does too, nothing else is needed. */
  | { appUser: 'root'; placement: Placement }
  /**
   * The image's user is not root. `run-as-root` also covers a task definition that already sets user root over a
   * non-root image: either way the container, and so the app, runs as root.
   */
  | { appUser: 'non-root'; strategy: NonRootStrategy; placement: Placement }

const STRATEGY_NAMES: Record<NonRootStrategy, string> = { sudo: 'nonroot', 'run-as-root': 'nonroot-as-root', 'drop-privileges': 'nonroot-drop' }

/** `root-sidecar`, `nonroot-embedded`, `nonroot-as-root-sidecar`, `nonroot-drop-embedded`, …: the names the seed uses. */
export function patternName(pattern: Pattern): string {
  const user = pattern.appUser === 'root' ? 'root' : STRATEGY_NAMES[pattern.strategy]
  return `${user}-${pattern.placement}`
}

/** The user the app's own process ends up as: the image's (or task's) user in the sudo and drop patterns, else root. */
export function keepsAppUser(pattern: Pattern): boolean {
  return pattern.appUser === 'non-root' && pattern.strategy !== 'run-as-root'
}
