/** Facts of the Lacework agent's sidecar image and start script (REFERENCE.md §2). */
export const AGENT_DIR = '/var/lib/lacework-backup'
export const AGENT_SCRIPT = `${AGENT_DIR}/lacework-sidecar.sh`
export const DEFAULT_AGENT_IMAGE = 'lacework/datacollector:latest-sidecar'
export const DEFAULT_AGENT_CONTAINER = 'datacollector-sidecar'
export const TOKEN_VARIABLE = 'LaceworkAccessToken'
export const SERVER_URL_VARIABLE = 'LaceworkServerUrl'

/** The agent script's own check of the token's form; anything else makes it exit 100. */
export const TOKEN_PATTERN = /^[A-Za-z0-9][-_A-Za-z0-9]{10,55}[A-Za-z0-9]$/

/** The non-root wrapper: sudo starts the agent (no arguments allowed), then the app replaces the shell. */
export const SUDO_WRAPPER = ['/bin/sh', '-c', `sudo -n ${AGENT_SCRIPT} && exec "$0" "$@"`]

/** A container is already instrumented when the agent script is anywhere in its argv, even inside `sh -c`. */
export function runsAgentScript(argv: readonly string[]): boolean {
  return argv.some(arg => arg.includes(AGENT_SCRIPT))
}
