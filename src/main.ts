import { audit } from './app/audit.js'
import { readContext } from './app/context.js'
import type { Host } from './app/host.js'
import { instrument } from './app/instrument.js'
import type { Services } from './app/services.js'
import { ActionError, DockerError } from './core/errors.js'

/**
 * Runs the action (or the CLI) on `host` with the engines and clients in `services`: every failure ends as one
 * error line, with an annotation at the file's line where there is one, and a failed exit.
 */
export async function run(host: Host, services: Services): Promise<void> {
  // Mask secrets before anything can print them.
  host.setSecret(host.getInput('lacework-access-token'))
  host.setSecret(host.getInput('github-token'))
  try {
    const ctx = readContext(name => host.getInput(name))
    await (ctx.audit ? audit(host, services, ctx) : instrument(host, services, ctx))
  } catch (error) {
    if (error instanceof DockerError && error.details) host.info(error.details)
    if (error instanceof ActionError) host.error(error.message, error.location)
    else host.error(`unexpected failure: ${(error as Error).stack ?? String(error)}`)
    host.fail()
  }
}
