#!/usr/bin/env node
import { CliHost, parseFlags } from './adapters/hosts/cli-host.js'
import { INPUT_NAMES } from './app/context.js'
import { realServices } from './adapters/services.js'
import { run } from './main.js'

const USAGE = `usage: lacework-fargate --task-definition FILE [--image REF] [--mode sidecar|embedded]
       [--non-root-strategy sudo|run-as-root] [--target-image REPO] [--output FILE] [--dry-run] …
flags: ${INPUT_NAMES.map(name => `--${name}`).join(' ')}
The rewritten task definition goes to --output, or to standard output.`

const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${USAGE}\n`)
} else {
  let flags: Map<string, string> | undefined
  try {
    flags = parseFlags(args)
    const unknown = [...flags.keys()].filter(name => !(INPUT_NAMES as readonly string[]).includes(name))
    if (unknown.length > 0) throw new Error(`unknown flag --${unknown[0]}`)
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${USAGE}\n`)
    process.exitCode = 1
  }
  if (flags && process.exitCode !== 1) await run(new CliHost(flags), realServices(process.stderr))
}
