import { ImageError } from '../core/errors.js'
import { platformName } from '../core/platform.js'
import type { Host } from './host.js'
import type { PlannedContainer } from './plan-task.js'
import type { DockerEngine, FoundCommand } from './services.js'

const DROP_TOOLS = ['setpriv', 'su-exec', 'gosu']

/**
 * drop-privileges needs a tool in the image to exec the app as its user: checked before anything is built
 * (through a local engine, which this strategy's images are run in to look); without an engine, a warning.
 */
export async function checkDropPrivilegesTools(host: Host, docker: DockerEngine, planned: PlannedContainer[]): Promise<void> {
  const checked = new Map<string, FoundCommand>()
  for (const { plan, facts, architecture } of planned) {
    if (plan.pattern.appUser !== 'non-root' || plan.pattern.strategy !== 'drop-privileges' || plan.alreadyInstrumented) continue
    // The engine's answer is asked once per run (Docker keeps it).
    const version = await docker.serverVersion()
    if (!version.ok) {
      host.warning(`container ${plan.container}: could not check ${facts.reference} for ${DROP_TOOLS.join(', ')} without a Docker engine; without one of them the container will not start`)
      continue
    }
    const key = `${architecture} ${facts.reference}`
    const found = checked.get(key) ?? (await docker.findCommand(facts.reference, DROP_TOOLS, platformName(architecture)))
    checked.set(key, found)
    if (found === 'cannot-run') {
      host.warning(`container ${plan.container}: could not check the ${platformName(architecture)} variant of ${facts.reference} for ${DROP_TOOLS.join(', ')}: this machine cannot run it`)
      continue
    }
    if (found === 'no-shell') throw new ImageError(facts.reference, 'has no /bin/sh: the agent script cannot run; use an image with a shell')
    if (found === 'none') {
      throw new ImageError(facts.reference, `has none of ${DROP_TOOLS.join(', ')}: drop-privileges cannot run the app as ${plan.effective.user}; add one (util-linux's setpriv, su-exec or gosu) or use the sudo strategy`)
    }
    host.info(`${plan.container}: drops privileges with ${found}`)
  }
}
