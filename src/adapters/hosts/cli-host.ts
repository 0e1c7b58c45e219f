import { parseArgs, type ParseArgsConfig } from 'node:util'
import { maskSecrets } from '../../core/secrets.js'
import { DESCRIPTION, FLAGS, VERSION, type CliFlag } from '../../cli/help.generated.js'
import type { InputName } from '../../app/context.js'
import type { SourceLocation } from '../../core/errors.js'
import type { Host } from '../../app/host.js'

/** A terminal: inputs from --flags (parseCommandLine), messages and outputs on stderr, the task definition on stdout or --output. */
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
  notice(message: string, location?: SourceLocation): void {
    this.print(`${where(location)}notice: ${message}`)
  }
  error(message: string, location?: SourceLocation): void {
    this.print(`${where(location)}error: ${message}`)
  }
  setOutput(name: string, value: string): void {
    this.print(`${name}=${value}`)
  }
  workspace(): string {
    return process.cwd()
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

/** What the command line asks for: a run with these inputs (action.yml's defaults filled in), the help, or the version. */
export type CommandLine = { kind: 'run'; flags: Map<string, string> } | { kind: 'help' } | { kind: 'version' }

/** A command line the flags cannot mean: exit 2, not a failed run. */
export class UsageError extends Error {}

/**
 * `node:util`'s parseArgs over the flags action.yml declares: `--flag value` and `--flag=value`; a boolean input
 * (default 'true' or 'false') also alone (true) or as `--flag false`. Unknown, repeated and positional arguments are
 * usage errors. Inputs not given take action.yml's default, as the Actions runner does for the action.
 */
export function parseCommandLine(argv: readonly string[], flags: readonly CliFlag[] = FLAGS): CommandLine {
  if (argv.length === 0) throw new UsageError('no flags: give --task-definition FILE, or --help for the flags')
  const booleans = new Set(flags.filter(flag => flag.boolean).map(flag => `--${flag.name}`))
  // parseArgs' own booleans refuse `--flag=false`: booleans are string options, and a bare one is given its `true`.
  const args: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      args.push(...argv.slice(i))
      break
    }
    if (!booleans.has(arg)) args.push(arg)
    else if (/^(true|false)$/i.test(argv[i + 1] ?? '')) args.push(`${arg}=${argv[++i]}`)
    else args.push(`${arg}=true`)
  }
  const options: NonNullable<ParseArgsConfig['options']> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    ...Object.fromEntries(flags.map(flag => [flag.name, { type: 'string' as const }]))
  }
  const parsed = strictParse(args, options)
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}: every input is a --flag`)
  if (parsed.values.help) return { kind: 'help' }
  if (parsed.values.version) return { kind: 'version' }

  const given = new Map<string, string>()
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.name === 'help' || token.name === 'version') continue
    if (given.has(token.name)) throw new UsageError(`--${token.name} is given more than once`)
    given.set(token.name, token.value ?? '')
  }
  const values = new Map<string, string>()
  for (const flag of flags) {
    const value = given.get(flag.name)
    if (value !== undefined && flag.boolean && !/^(true|false)$/i.test(value)) {
      throw new UsageError(`--${flag.name} is true or false, not ${JSON.stringify(value)}`)
    }
    const chosen = value ?? flag.default
    if (chosen !== undefined) values.set(flag.name, flag.boolean ? chosen.toLowerCase() : chosen)
  }
  return { kind: 'run', flags: values }
}

/** parseArgs' errors are the command line's: usage errors, in one line. */
function strictParse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true })
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }))
  }
}

/** parseArgs' message in this CLI's words: its own explain `--`, which no input needs. */
function usageMessage(error: Error & { code?: string }): string {
  const option = /'(?:-\w, )?(--?[^' ]+)/.exec(error.message)?.[1]
  if (option && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${option}`
  if (option && /argument missing/.test(error.message)) return `${option} needs a value`
  if (option && /ambiguous/.test(error.message)) return `${option} needs a value (one that starts with - goes as ${option}=VALUE)`
  if (option && /does not take an argument/.test(error.message)) return `${option} takes no value`
  return error.message.split('\n')[0].replace(/\.$/, '')
}

/** The usage, then every flag with its description and default from action.yml, wrapped to `width` columns. */
export function helpText(flags: readonly CliFlag[] = FLAGS, width = 80): string {
  const indent = '      '
  const lines = [
    'usage: lacework-fargate --task-definition FILE [--flag value ...]',
    '       lacework-fargate --task-definition-family NAME [--flag value ...]',
    '       lacework-fargate --help | --version',
    '',
    ...wrap(DESCRIPTION, width, ''),
    '',
    ...wrap(
      'The flags are the action\'s inputs (action.yml), under the same names and with the same defaults. The rewritten task ' +
        'definition goes to --output, or to standard output; messages and outputs go to standard error. A boolean flag ' +
        'alone means true; --flag=false or --flag false turns it off.',
      width,
      ''
    ),
    '',
    'Flags:'
  ]
  for (const flag of flags) {
    lines.push(`  --${flag.name}${flag.boolean ? '[=true|false]' : ' <value>'}`, ...wrap(flag.description, width, indent))
    if (flag.default !== undefined) lines.push(`${indent}default: ${flag.default}`)
  }
  lines.push(
    '',
    'Other:',
    '  -h, --help',
    `${indent}Print this help and exit.`,
    '  -v, --version',
    `${indent}Print the version (${VERSION}) and exit.`,
    '',
    'Exit status: 0 success, 1 failure (the run failed), 2 usage error.'
  )
  return `${lines.join('\n')}\n`
}

/** Greedy word wrap; a word longer than the line stands alone. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line)
      line = word
    } else {
      line = line ? `${line} ${word}` : word
    }
  }
  if (line) lines.push(indent + line)
  return lines
}
