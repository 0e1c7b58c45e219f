import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The runtime action.yml declares (node24), from the `node` dev dependency. */
export const NODE24 = join(ROOT, 'node_modules/node/bin/node')

export interface ProcessRun {
  status: number | null
  stdout: string
  stderr: string
}

export interface ActionRun extends ProcessRun {
  outputs: Record<string, string>
  runnerTemp: string
}

function node24(): string {
  if (!existsSync(NODE24)) throw new Error(`${NODE24} is missing: run npm ci (the node@24 dev dependency)`)
  return NODE24
}

function actionEnv(inputs: Record<string, string>, env: Record<string, string | undefined>): { runnerTemp: string; outputFile: string; env: NodeJS.ProcessEnv } {
  const runnerTemp = mkdtempSync(join(tmpdir(), 'lwf-runner-'))
  const outputFile = join(runnerTemp, 'github-output')
  writeFileSync(outputFile, '') // the runner creates it before the step starts
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]))
  return { runnerTemp, outputFile, env: { ...cleanEnv(), GITHUB_OUTPUT: outputFile, RUNNER_TEMP: runnerTemp, ...inputEnv, ...env } }
}

/** Runs the bundled action the way a runner does: INPUT_* variables, a GITHUB_OUTPUT file, RUNNER_TEMP. */
export function runAction(inputs: Record<string, string>, env: Record<string, string | undefined> = {}, cwd = ROOT): ActionRun {
  const setup = actionEnv(inputs, env)
  const result = spawnSync(node24(), [join(ROOT, 'dist/index.js')], { cwd, encoding: 'utf8', env: setup.env, timeout: 300_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, outputs: parseOutputFile(readFileSync(setup.outputFile, 'utf8')), runnerTemp: setup.runnerTemp }
}

/** The same, without blocking this process: for servers the action talks to that live in the test process. */
export async function runActionAsync(inputs: Record<string, string>, env: Record<string, string | undefined> = {}): Promise<ActionRun> {
  const setup = actionEnv(inputs, env)
  const child = spawn(node24(), [join(ROOT, 'dist/index.js')], { cwd: ROOT, env: setup.env, timeout: 300_000 })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  const status = await new Promise<number | null>(resolve => child.on('close', resolve))
  return { status, stdout, stderr, outputs: parseOutputFile(readFileSync(setup.outputFile, 'utf8')), runnerTemp: setup.runnerTemp }
}

/** Runs the bundled CLI. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): ProcessRun {
  const result = spawnSync(node24(), [join(ROOT, 'dist/cli/index.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...cleanEnv(), ...env },
    timeout: 300_000
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The environment without the runner variables of an enclosing GitHub job. */
function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(INPUT_|GITHUB_|RUNNER_)/.test(name)))
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks, as @actions/core writes them. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!match) continue
    const [, name, delimiter] = match
    const value: string[] = []
    while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i])
    outputs[name] = value.join('\n')
  }
  return outputs
}
