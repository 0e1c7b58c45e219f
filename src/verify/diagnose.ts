import { AGENT_SCRIPT, AGENT_WRITABLE_PATHS, agentPathsWritable, runsAgentScript } from '../core/agent.js'
import { describeUser, isRootUser } from '../core/user.js'
import type { TaskContainer } from './types.js'


/** What is known of a container that did not start or stopped. */
export interface ExitFacts {
  container: TaskContainer
  /** Undefined when it never ran. */
  exitCode?: number
  /** docker create/start's error, or the engine's State.Error. */
  startError?: string
  /** The tail of its log. */
  logs: string
  /** The effective user (task `user`, else the image's); '' is root. */
  user: string
  /** What it ran: the engine's Path + Args, or entryPoint ++ command when it never got that far. */
  argv: string[]
  /** Whether the image has /bin/sh (undefined when unknown). */
  hasShell?: boolean
  seconds?: number
}


/** The last few meaningful log lines, on one line. */
export function logTail(logs: string, lines = 3): string {
  const kept = logs
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
    .slice(-lines)
  return kept.length ? kept.join(' ⏎ ') : 'no output'
}

/** Whether the argv needs a shell: a `sh -c` wrapper, or the agent script (a #!/bin/sh script). */
function needsShell(argv: string[]): boolean {
  return /(^|\/)(sh|bash|dash|ash)$/.test(argv[0] ?? '') || runsAgentScript(argv)
}

/**
 * One line saying why a container did not start or stopped, and what to change. The specific causes the
 * instrumentation can produce come first, then anything the log shows.
 */
export function explainExit(facts: ExitFacts): string {
  const name = facts.container.name
  const text = `${facts.startError ?? ''}\n${facts.logs}`
  const who = describeUser(facts.user)
  const code = facts.exitCode
  const ran = code === undefined ? 'could not start' : `exited ${code}${facts.seconds !== undefined ? ` after ${facts.seconds.toFixed(1)} s` : ''}`

  if (/no such file or directory/i.test(text) && facts.hasShell === false && needsShell(facts.argv)) {
    return `image has no /bin/sh: the agent script cannot run in ${name} (${ran}: ${logTail(text, 1)}); use an image with a shell (the script is #!/bin/sh and the non-root wrapper is sh -c, so run-as-root does not avoid it; distroless and scratch images cannot run the agent)`
  }
  if (code === 244 || /agent must run as root/.test(text)) {
    return `the agent script ran as ${who} and exited ${code ?? 244} in ${name}: it needs root — use the sudo or run-as-root strategy`
  }
  const sudo = /^.*sudo: .*$/m.exec(text)?.[0].trim()
  if (sudo || /sudo: not found|sudo: command not found|exec: "sudo"/.test(text)) {
    if (/not found/.test(sudo ?? text)) {
      return `${name} has no sudo (${sudo ?? 'sudo: not found'}): the sudo wrapper needs the sudo-enabled image the sudo strategy builds; deploy that image, or use the run-as-root strategy`
    }
    return `sudo could not start the agent script as root in ${name} (${sudo}): the image needs a NOPASSWD sudo rule for ${who} and ${AGENT_SCRIPT} with no arguments (the sudo strategy builds one); rebuild the image, or use the run-as-root strategy`
  }
  if (code === 100 || /LaceworkAccessToken is missing or invalid/.test(text)) {
    return `the agent script exited ${code ?? 100} in ${name}: LaceworkAccessToken is missing or malformed (it must match ^[A-Za-z0-9][-_A-Za-z0-9]{10,55}[A-Za-z0-9]$); set the token input or secret`
  }
  if (facts.container.readonlyRootFilesystem && !agentPathsWritable(facts.container) && (/read-only file system/i.test(text) || /cannot (create|copy|write)/i.test(text))) {
    return `${name}: readonlyRootFilesystem: the agent could not write /var/lib/lacework; mount writable volumes at ${AGENT_WRITABLE_PATHS.slice(0, -1).join(', ')} and ${AGENT_WRITABLE_PATHS.at(-1)} (${logTail(text, 1)})`
  }
  const bind = /bind\(\) to (\S+?):(\d+) failed \((?:13: )?Permission denied\)/.exec(text) ?? /(?:bind|listen)\D{0,40}?(\d+)\b.*(?:Permission denied|EACCES)/i.exec(text)
  if (bind) {
    const port = Number(bind[bind.length - 1])
    if (port < 1024 && !isRootUser(facts.user)) {
      return `${name} could not bind port ${port} as ${who}: on Fargate only root may bind ports below 1024; make the app listen on a port ≥ 1024 (e.g. 8080) and map that port`
    }
    return `${name} could not bind port ${port}: ${logTail(text, 1)}`
  }
  const inUse = /(?:bind|listen)\D{0,40}?(\d+)\b.*(?:Address already in use|EADDRINUSE)/i.exec(text)
  if (inUse) {
    return `${name} could not bind port ${inUse[1]}: another container of the task uses it (awsvpc gives the task one network namespace); give each container its own port`
  }
  if (/no such file or directory|executable file not found|permission denied/i.test(facts.startError ?? '') || (code !== undefined && code >= 126 && code <= 127)) {
    return `${name} ${ran}: ${logTail(text, 1)}: the entryPoint/command names a program the image cannot run (${facts.argv[0] ?? '?'})`
  }
  return `${name} ${ran} as ${who}: ${logTail(text)}`
}
