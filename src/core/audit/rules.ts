import { AGENT_SCRIPT, AGENT_WRITABLE_PATHS, DEFAULT_AGENT_CONTAINER, TOKEN_VARIABLE } from '../agent.js'
import { SUDOERS_FILE } from '../dockerfile.js'

/** SARIF's result levels that code scanning shows (`none` is left out: every rule here reports a problem). */
export type Level = 'error' | 'warning' | 'note'

export type RuleId = 'LWF001' | 'LWF002' | 'LWF003' | 'LWF004' | 'LWF005' | 'LWF006' | 'LWF007' | 'LWF008' | 'LWF009' | 'LWF010'

/** One check of the audit: what SARIF's `reportingDescriptor` and the job summary say about it. */
export interface AuditRule {
  id: RuleId
  /** PascalCase, stable: code scanning filters by it. */
  name: string
  /** One line, shown beside every result. */
  shortDescription: string
  /** Why it matters. */
  fullDescription: string
  /** How to fix it: which pattern or input of the action solves it. */
  help: { text: string; markdown: string }
  level: Level
  /** GitHub's bands: ≥ 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low. */
  securitySeverity: string
  tags: readonly string[]
  helpUri?: string
}

/**
 * One problem found in one place. `logicalKey` names the problem without its position (`<file>#<container>/<field>`),
 * so the same problem keeps its identity, and its code-scanning alert, when lines move.
 */
export interface Finding {
  ruleId: RuleId
  level: Level
  message: string
  location: { file: string; line?: number; column?: number }
  container?: string
  logicalKey: string
  /** True when running the action on the file (without `audit`) makes the problem go away. */
  fixedByInstrumenting: boolean
  suppressed?: { by: 'input' | 'label'; justification: string }
}

/** The logical key of a finding about `field` of `container` in `file` (or of the task itself without a container). */
export function findingKey(file: string, container: string | undefined, field: string): string {
  return `${file}#${container ?? ''}/${field}`
}

const AGENT_PATHS = AGENT_WRITABLE_PATHS.map(path => `\`${path}\``).join(', ').replace(/, ([^,]*)$/, ' and $1')

export const AUDIT_RULES: readonly AuditRule[] = [
  {
    id: 'LWF001',
    name: 'AgentNotRunning',
    shortDescription: 'An essential container runs without the Lacework agent.',
    fullDescription:
      `Neither the container's entryPoint/command nor its image's Entrypoint starts ${AGENT_SCRIPT}, so no agent watches ` +
      'the processes, files and connections of this container: an attack on it goes unseen.',
    help: {
      text:
        'Run lacework-fargate on the task definition: it picks the pattern from the image (root or non-root user) and puts ' +
        'the agent script in front of the original command, in a sidecar volume (mode: sidecar, the default) or copied into ' +
        'the image (mode: embedded). For a non-root image choose non-root-strategy: sudo, drop-privileges or run-as-root.',
      markdown:
        'Run `lacework-fargate` on the task definition: it picks the pattern from the image (root or non-root user) and ' +
        'puts the agent script in front of the original command, in a sidecar volume (`mode: sidecar`, the default) or ' +
        'copied into the image (`mode: embedded`). For a non-root image choose `non-root-strategy: sudo`, ' +
        '`drop-privileges` or `run-as-root`.'
    },
    level: 'error',
    securitySeverity: '7.0',
    tags: ['security', 'lacework', 'ecs', 'coverage']
  },
  {
    id: 'LWF002',
    name: 'AgentSidecarMiswired',
    shortDescription: 'The agent sidecar is wired wrong: the agent script may be missing or the task may stop.',
    fullDescription:
      'The agent reaches the app container through the sidecar image\'s volume: the app needs volumesFrom the sidecar and ' +
      'dependsOn it with condition SUCCESS, or the script is not there when the app starts. The sidecar must be ' +
      'non-essential, since it exits once the volume is ready (an essential container that exits stops the task), and the ' +
      `volume it shares must be the agent's own (/var/lib/lacework-backup).`,
    help: {
      text:
        `Run lacework-fargate on the task definition: it adds or repairs the non-essential ${DEFAULT_AGENT_CONTAINER} ` +
        'container (agent-container-name), volumesFrom it (read-only) and dependsOn it with condition SUCCESS on every ' +
        'instrumented container, matching entries by name so nothing is duplicated.',
      markdown:
        `Run \`lacework-fargate\` on the task definition: it adds or repairs the non-essential \`${DEFAULT_AGENT_CONTAINER}\` ` +
        'container (`agent-container-name`), `volumesFrom` it (read-only) and `dependsOn` it with condition `SUCCESS` on ' +
        'every instrumented container, matching entries by name so nothing is duplicated.'
    },
    level: 'error',
    securitySeverity: '6.5',
    tags: ['security', 'lacework', 'ecs', 'reliability']
  },
  {
    id: 'LWF003',
    name: 'AppNotExecAfterAgent',
    shortDescription: 'The app is not exec\'d after the agent starts: it never receives SIGTERM.',
    fullDescription:
      'With sh -c "… && app" the shell stays PID 1 and the app is its child. ECS sends SIGTERM to PID 1 only, the shell ' +
      'does not pass it on, so the app never shuts down cleanly and every stop or deploy waits for the stop timeout ' +
      'before SIGKILL.',
    help: {
      text:
        'Give lacework-fargate the original command instead of a hand-written wrapper: it writes ' +
        '["/bin/sh","-c","sudo -n <agent script> && exec \\"$0\\" \\"$@\\"", <original argv…>] (non-root-strategy: sudo), ' +
        'the drop-privileges wrapper, or the agent script itself as the entrypoint (root images), all of which exec the app.',
      markdown:
        'Give `lacework-fargate` the original command instead of a hand-written wrapper: it writes ' +
        '`["/bin/sh","-c","sudo -n <agent script> && exec \\"$0\\" \\"$@\\"", <original argv…>]` (`non-root-strategy: sudo`), ' +
        'the `drop-privileges` wrapper, or the agent script itself as the entrypoint (root images), all of which `exec` the app.'
    },
    level: 'warning',
    securitySeverity: '2.0',
    tags: ['security', 'lacework', 'ecs', 'reliability']
  },
  {
    id: 'LWF004',
    name: 'AccessTokenInPlainText',
    shortDescription: `The Lacework access token is plain text in environment (${TOKEN_VARIABLE}).`,
    fullDescription:
      'A value in environment is stored in the task definition: it is in the repository, in every revision ECS keeps, and ' +
      'readable by anyone allowed ecs:DescribeTaskDefinition. Whoever has the token can send data as your agents.',
    help: {
      text:
        'Store the token in SSM Parameter Store or Secrets Manager and give its ARN as lacework-access-token-secret: the ' +
        'action writes it to secrets (valueFrom), so ECS injects it at start. The execution role needs ssm:GetParameters ' +
        'or secretsmanager:GetSecretValue. Rotate the token that was in plain text.',
      markdown:
        'Store the token in SSM Parameter Store or Secrets Manager and give its ARN as `lacework-access-token-secret`: the ' +
        'action writes it to `secrets` (`valueFrom`), so ECS injects it at start. The execution role needs ' +
        '`ssm:GetParameters` or `secretsmanager:GetSecretValue`. Rotate the token that was in plain text.'
    },
    level: 'error',
    securitySeverity: '7.5',
    tags: ['security', 'lacework', 'ecs', 'secrets', 'external/cwe/cwe-312']
  },
  {
    id: 'LWF005',
    name: 'AgentImageNotPinned',
    shortDescription: 'The agent image is named by tag only, not pinned by digest.',
    fullDescription:
      'A tag can be moved to another image at any time: each task start may then run an agent nobody reviewed, with ' +
      'root privileges inside the app container.',
    help: {
      text:
        'Keep pin-agent-image: true (the default): the action resolves the tag and writes the agent image as ' +
        'repo:tag@sha256:…, so a deploy runs the agent that was reviewed.',
      markdown:
        'Keep `pin-agent-image: true` (the default): the action resolves the tag and writes the agent image as ' +
        '`repo:tag@sha256:…`, so a deploy runs the agent that was reviewed.'
    },
    level: 'warning',
    securitySeverity: '5.0',
    tags: ['security', 'lacework', 'supply-chain', 'external/cwe/cwe-494']
  },
  {
    id: 'LWF006',
    name: 'AgentDigestStale',
    shortDescription: 'The pinned agent digest is no longer what its tag names.',
    fullDescription:
      'The tag has moved on since the digest was pinned: the task runs an older agent than the one the tag now names, ' +
      'without the fixes released since.',
    help: {
      text:
        'Run lacework-fargate again with pin-agent-image: true: it re-resolves the tag and writes the current digest, ' +
        'which shows up in the review diff.',
      markdown:
        'Run `lacework-fargate` again with `pin-agent-image: true`: it re-resolves the tag and writes the current digest, ' +
        'which shows up in the review diff.'
    },
    level: 'warning',
    securitySeverity: '4.0',
    tags: ['security', 'lacework', 'supply-chain']
  },
  {
    id: 'LWF007',
    name: 'AgentStartsAsNonRoot',
    shortDescription: 'The agent would start as a non-root user and exit 244.',
    fullDescription:
      'The agent script checks whoami and exits with status 500 (seen as 244) unless it runs as root. The container runs ' +
      'as a non-root user with no sudo wrapper, no run-as-root user and no drop-privileges wrapper, so the agent never ' +
      'starts, and with "script && app" the app does not start either.',
    help: {
      text:
        'Choose a non-root-strategy: sudo (a sudo-enabled image whose only rule runs the agent script with no arguments), ' +
        'drop-privileges (start as root, run the agent, exec the app as its user with setpriv, su-exec or gosu) or ' +
        'run-as-root (user: root for the whole container).',
      markdown:
        'Choose a `non-root-strategy`: `sudo` (a sudo-enabled image whose only rule runs the agent script with no ' +
        'arguments), `drop-privileges` (start as root, run the agent, `exec` the app as its user with `setpriv`, ' +
        '`su-exec` or `gosu`) or `run-as-root` (`"user": "root"` for the whole container).'
    },
    level: 'error',
    securitySeverity: '7.0',
    tags: ['security', 'lacework', 'ecs', 'coverage']
  },
  {
    id: 'LWF008',
    name: 'SudoBroaderThanAgent',
    shortDescription: 'The image lets the app user become root: a sudo rule allows more than the agent script.',
    fullDescription:
      'Any code running as the app user (a compromised dependency, a shell from an injection) can use a rule such as ' +
      '%sudo ALL=(ALL) NOPASSWD:ALL, the agent script with arguments (it execs them as root), a wildcard, a shell or ' +
      'editor, or a rule that passes PATH or LD_PRELOAD (SETENV, env_keep, !env_reset: what sudo -E needs) to become root.',
    help: {
      text:
        `Remove the broad rule and let the action build the image (non-root-strategy: sudo): its only rule, in ${SUDOERS_FILE}, ` +
        `is #<uid> ALL=(root) NOPASSWD: ${AGENT_SCRIPT} "" with env_keep for the agent's two variables instead of sudo -E. ` +
        'Or use non-root-strategy: drop-privileges, which needs no sudo at all.',
      markdown:
        `Remove the broad rule and let the action build the image (\`non-root-strategy: sudo\`): its only rule, in ` +
        `\`${SUDOERS_FILE}\`, is \`#<uid> ALL=(root) NOPASSWD: ${AGENT_SCRIPT} ""\` with \`env_keep\` for the agent's two ` +
        'variables instead of `sudo -E`. Or use `non-root-strategy: drop-privileges`, which needs no sudo at all.'
    },
    level: 'error',
    securitySeverity: '7.8',
    tags: ['security', 'lacework', 'sudo', 'privilege-escalation', 'external/cwe/cwe-269', 'external/cwe/cwe-250']
  },
  {
    id: 'LWF009',
    name: 'AgentArchitectureMismatch',
    shortDescription: 'The agent cannot run on the task\'s CPU: an ARM64 task with an AMD64-only agent image.',
    fullDescription:
      'The Lacework sidecar images are published for AMD64 only. On an ARM64 task the sidecar container cannot start, ' +
      'so a dependsOn SUCCESS on it never holds and the app never starts; an embedded copy fails the same way.',
    help: {
      text:
        'Run the task on X86_64 (runtimePlatform.cpuArchitecture), or give agent-image an image with an arm64 variant; ' +
        'with pin-agent-image the action checks the variant and warns when there is none.',
      markdown:
        'Run the task on `X86_64` (`runtimePlatform.cpuArchitecture`), or give `agent-image` an image with an arm64 ' +
        'variant; with `pin-agent-image` the action checks the variant and warns when there is none.'
    },
    level: 'error',
    securitySeverity: '7.0',
    tags: ['security', 'lacework', 'ecs', 'coverage']
  },
  {
    id: 'LWF010',
    name: 'ReadonlyRootWithoutAgentPaths',
    shortDescription: 'readonlyRootFilesystem is set, but the paths the agent writes are not writable.',
    fullDescription:
      `The agent script copies the agent to /var/lib/lacework, writes its config there, logs to /var/log/lacework and ` +
      'makes temporary files in /tmp. With a read-only root file system and no volume at those paths it fails, and the ' +
      'app behind it does not start.',
    help: {
      text:
        'Add task volumes and mountPoints at /var/lib/lacework, /var/log/lacework and /tmp in the container, or set ' +
        'readonlyRootFilesystem to false. verify: true starts the task locally and shows whether the agent comes up.',
      markdown:
        `Add task \`volumes\` and \`mountPoints\` at ${AGENT_PATHS} in the container, or set \`readonlyRootFilesystem\` ` +
        'to `false`. `verify: true` starts the task locally and shows whether the agent comes up.'
    },
    level: 'error',
    securitySeverity: '6.0',
    tags: ['security', 'lacework', 'ecs', 'reliability']
  }
]

const BY_ID = new Map<string, AuditRule>(AUDIT_RULES.map(rule => [rule.id, rule]))

/** The catalogue's rule; an unknown id is a programming error. */
export function auditRule(id: RuleId): AuditRule {
  const rule = BY_ID.get(id)
  if (!rule) throw new Error(`unknown audit rule ${id}`)
  return rule
}
