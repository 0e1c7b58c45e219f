import { maskSecrets } from '../../core/secrets.js'
import type { InputName } from '../../app/context.js'
import type { SourceLocation } from '../../core/errors.js'
import type { Host } from '../../app/host.js'

/** A terminal: inputs from --flags, messages and outputs on stderr, the task definition on stdout or --output. */
export class CliHost implements Host {
  log = process.stderr
  private readonly secrets: string[] = []

  constructor(private readonly flags: Map<string, string>) {}

  getInput(name: InputName): string {
    return this.flags.get(name) ?? ''
  }
  setSecret(value: string): void {
    if (value) this.secrets.push(value)
  }
  info(message: string): void {
    this.print(message)
  }
  warning(message: string, location?: SourceLocation): void {
    this.print(`${where(location)}warning: ${message}`)
  }
  error(message: string, location?: SourceLocation): void {
    this.print(`${where(location)}error: ${message}`)
  }
  setOutput(name: string, value: string): void {
    this.print(`${name}=${value}`)
  }
  outputFolder(): undefined {
    return undefined
  }
  async group<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.print(`# ${name}`)
    return work()
  }
  async writeSummary(): Promise<void> {}
  gitHubRun(): undefined {
    return undefined
  }
  writeResult(text: string): void {
    process.stdout.write(text)
  }
  fail(): void {
    process.exitCode = 1
  }

  private print(message: string): void {
    const masked = maskSecrets(message, this.secrets)
    process.stderr.write(`${masked}\n`)
  }
}

/** `file:line:column: `, the form editors and terminals turn into links. */
function where(location?: SourceLocation): string {
  if (!location) return ''
  return `${[location.file, location.line, location.column].filter(part => part !== undefined).join(':')}: `
}

/** `--name value`, `--name=value`, and bare `--flag` (meaning true). */
export function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`)
    const eq = arg.indexOf('=')
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1))
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      flags.set(arg.slice(2), argv[++i])
    } else {
      flags.set(arg.slice(2), 'true')
    }
  }
  return flags
}
