#!/usr/bin/env node
import { CliHost, helpText, parseCommandLine, UsageError, type CommandLine } from './adapters/hosts/cli-host.js'
import { VERSION } from './cli/help.generated.js'
import { realServices } from './adapters/services.js'
import { run } from './main.js'

// Exit status: 0 success, 1 a failed run (CliHost.fail), 2 a usage error (the command line itself).
let command: CommandLine | undefined
try {
  command = parseCommandLine(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  process.stderr.write(`error: ${error.message}\nRun lacework-fargate --help for the flags.\n`)
  process.exitCode = 2
}
if (command?.kind === 'help') process.stdout.write(helpText())
else if (command?.kind === 'version') process.stdout.write(`${VERSION}\n`)
else if (command?.kind === 'run') {
  const host = new CliHost(command.flags)
  await run(host, realServices(host.log))
}
