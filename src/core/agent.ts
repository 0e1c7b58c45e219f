/** Facts of the Lacework agent's sidecar image and start script (docs/facts.md §2). */
export const AGENT_DIR = '/var/lib/lacework-backup'
export const AGENT_SCRIPT = `${AGENT_DIR}/lacework-sidecar.sh`
export const DEFAULT_AGENT_IMAGE = 'lacework/datacollector:latest-sidecar'
export const DEFAULT_AGENT_CONTAINER = 'datacollector-sidecar'
/**
 * The agent sidecar's soft memory limit (MiB) in a task without task-level memory, where ECS requires one on every
 * container; the sidecar only puts its volume in place and exits.
 */
export const AGENT_SIDECAR_MEMORY_RESERVATION = 32
export const TOKEN_VARIABLE = 'LaceworkAccessToken'
export const SERVER_URL_VARIABLE = 'LaceworkServerUrl'

/** The agent script's own check of the token's form; anything else makes it exit 100. */
export const TOKEN_PATTERN = /^[A-Za-z0-9][-_A-Za-z0-9]{10,55}[A-Za-z0-9]$/

/** The non-root wrapper: sudo starts the agent (no arguments allowed), then the app replaces the shell. */
export const SUDO_WRAPPER = ['/bin/sh', '-c', `sudo -n ${AGENT_SCRIPT} && exec "$0" "$@"`]

/** The paths the agent script writes (docs/facts.md §2). */
export const AGENT_WRITABLE_PATHS = ['/var/lib/lacework', '/var/log/lacework', '/tmp']

/** Whether a container's writable mount points cover every path the agent writes (its root file system may be read-only). */
export function agentPathsWritable(container: { mountPoints?: { containerPath?: string; readOnly?: boolean }[] }): boolean {
  const writable = (container.mountPoints ?? []).filter(mount => !mount.readOnly && mount.containerPath).map(mount => (mount.containerPath as string).replace(/\/+$/, ''))
  return AGENT_WRITABLE_PATHS.every(path => writable.some(mount => path === mount || path.startsWith(`${mount}/`)))
}

/** The VOLUMEs an image declares that cover the agent directory: `volumesFrom` shares only those. */
export function volumeCoversAgentDir(declared: Record<string, unknown> | null | undefined): boolean {
  return declaredVolumes(declared).some(volume => AGENT_DIR === volume || AGENT_DIR.startsWith(`${volume}/`))
}

/** An image config's VOLUME paths, without trailing slashes. */
export function declaredVolumes(declared: Record<string, unknown> | null | undefined): string[] {
  return Object.keys(declared ?? {}).map(volume => volume.replace(/\/+$/, ''))
}

/** A container is already instrumented when the agent script is anywhere in its argv, even inside `sh -c`. */
export function runsAgentScript(argv: readonly string[]): boolean {
  return argv.some(arg => arg.includes(AGENT_SCRIPT))
}

/** Whether `argv` goes through sudo: `sudo` as a word of a shell script, or as an argument of its own. */
export function runsThroughSudo(argv: readonly string[]): boolean {
  return argv.some(arg => arg === 'sudo' || /(^|[\s;&|])sudo\s/.test(arg))
}

/** Printed by a wrapper that cannot go on, so its cause can be told from the app's own output. */
export const FAILURE_MARKER = 'lacework-fargate:'

/**
 * The drop-privileges wrapper: the container starts as root, runs the agent script, then execs the app as
 * `user` with whichever of setpriv, su-exec or gosu the image has — no sudo in the image, the app never root.
 */
export function dropPrivilegesWrapper(user: string): string[] {
  const [uid, gid] = user.trim().split(':')
  const group = gid ?? `$(id -g ${uid})`
  const script = [
    `${AGENT_SCRIPT} || exit $?`,
    // stdout/stderr are pipes the runtime made for root: apps that reopen /dev/stderr (nginx) need them as their own.
    // No 2>/dev/null here: dash applies a redirection in the shell itself, and would chown /dev/null instead.
    `chown ${uid} /proc/$$/fd/1 /proc/$$/fd/2 || :`,
    `if command -v setpriv >/dev/null 2>&1; then exec setpriv --reuid=${uid} --regid=${group} --init-groups -- "$0" "$@"`,
    `elif command -v su-exec >/dev/null 2>&1; then exec su-exec ${uid}${gid ? `:${gid}` : ''} "$0" "$@"`,
    `elif command -v gosu >/dev/null 2>&1; then exec gosu ${uid}${gid ? `:${gid}` : ''} "$0" "$@"`,
    `else echo "${FAILURE_MARKER} the image has none of setpriv, su-exec, gosu to run the app as ${user}" >&2; exit 1; fi`
  ].join('; ')
  return ['/bin/sh', '-c', script]
}
