#!/usr/bin/env node
// Runs the lacework-fargate step of each ready workflow in examples/workflows/ the way a runner would (the bundled
// dist/index.js, inputs as INPUT_* variables), offline: the step's own inputs, with its `${{ … }}` expressions given
// stand-in values, plus saved image facts and a dry run. The workflow's name is its pattern, and the run must give it.
//   node scripts/run-example-workflow.mjs examples/workflows/root-sidecar.yml [more.yml …]
// Used by the self-test workflow and by __tests__/example-workflows.test.ts. Exit 1 names the file and what failed.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const REGISTRY = '012345678901.dkr.ecr.eu-central-1.amazonaws.com'
// The images of examples/image-inspect.json: nginx runs as root, nginx-unprivileged as uid 101.
const APP_IMAGE = { root: 'nginx:1.23.1', nonroot: 'nginxinc/nginx-unprivileged:1.23.1' }
const TASK_DEFINITION = { root: 'examples/nginx-root.json', nonroot: 'examples/nginx-nonroot.json' }

class Failure extends Error {}

/** The step that uses this action, whatever its owner and major version. */
function laceworkStep(workflow, file) {
  const steps = Object.values(workflow.jobs ?? {}).flatMap(job => job.steps ?? [])
  const found = steps.filter(step => /(^|\/)lacework-fargate@v\d+$/.test(step.uses ?? ''))
  if (found.length !== 1) throw new Failure(`${file}: expected one step that uses …/lacework-fargate@vN, found ${found.length}`)
  return found[0]
}

/** `${{ … }}` replaced by the stand-in the self-test gives it; an expression it does not know is a failure, not a guess. */
function standIn(value, kind, file, input) {
  const known = { 'vars.ECR_REGISTRY': REGISTRY, 'steps.app.outputs.image': APP_IMAGE[kind], 'github.sha': '0123456789abcdef0123456789abcdef01234567' }
  return String(value).replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expression) => {
    if (!(expression in known)) throw new Failure(`${file}: input ${input} uses \${{ ${expression} }}, which has no stand-in in scripts/run-example-workflow.mjs`)
    return known[expression]
  })
}

/** The values a step wrote to $GITHUB_OUTPUT (`name<<delimiter` … `delimiter`, as @actions/core writes them). */
function readOutputs(text) {
  const outputs = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^<=]+)<<(.+)$/.exec(lines[i])
    if (!heredoc) continue
    const end = lines.indexOf(heredoc[2], i + 1)
    outputs[heredoc[1]] = lines.slice(i + 1, end).join('\n')
    i = end
  }
  return outputs
}

function runExample(file) {
  const pattern = basename(file).replace(/\.ya?ml$/, '')
  const kind = pattern.startsWith('nonroot-') ? 'nonroot' : 'root'
  const step = laceworkStep(parse(readFileSync(file, 'utf8')), file)
  const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([name, value]) => [name, standIn(value, kind, file, name)]))
  // The workflow's own path is the user's; here it is the bundled example of the same kind.
  inputs['task-definition'] = TASK_DEFINITION[kind]
  Object.assign(inputs, { 'image-inspect-file': 'examples/image-inspect.json', 'dry-run': 'true', 'pin-agent-image': 'false', comment: 'false' })

  const work = mkdtempSync(join(tmpdir(), `lwf-example-${pattern}-`))
  try {
    return runStep(file, pattern, inputs, work)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

function runStep(file, pattern, inputs, work) {
  const files = { GITHUB_OUTPUT: join(work, 'output'), GITHUB_STEP_SUMMARY: join(work, 'summary.md') }
  for (const path of Object.values(files)) writeFileSync(path, '')
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? work, RUNNER_TEMP: work, GITHUB_WORKSPACE: root, ...files }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  const result = spawnSync(process.execPath, [join(root, 'dist/index.js')], { cwd: root, env, encoding: 'utf8' })
  if (result.status !== 0) throw new Failure(`${file}: the step failed (exit ${result.status}):\n${result.stdout}${result.stderr}`)

  const outputs = readOutputs(readFileSync(files.GITHUB_OUTPUT, 'utf8'))
  const patterns = (outputs.pattern ?? '').split(',').map(item => item.slice(item.indexOf('=') + 1))
  if (patterns.length !== 1 || patterns[0] !== pattern) throw new Failure(`${file}: pattern output is "${outputs.pattern}", not <container>=${pattern}`)
  if (outputs.changed !== 'true') throw new Failure(`${file}: changed output is "${outputs.changed}", not true`)
  if (!outputs['task-definition'] || !existsSync(outputs['task-definition'])) throw new Failure(`${file}: no task-definition output file`)
  JSON.parse(readFileSync(outputs['task-definition'], 'utf8'))
  if (!readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8').includes('```mermaid')) throw new Failure(`${file}: the job summary has no task diagram`)
  return `${file}: ${outputs.pattern}, changed ${outputs.changed}, task diagram in the summary`
}

const targets = process.argv.slice(2)
if (targets.length === 0) {
  process.stderr.write('usage: node scripts/run-example-workflow.mjs examples/workflows/<pattern>.yml …\n')
  process.exit(2)
}
let failed = 0
for (const file of targets) {
  try {
    process.stdout.write(`${runExample(file)}\n`)
  } catch (error) {
    failed++
    process.stderr.write(`${error instanceof Failure ? error.message : error.stack}\n`)
  }
}
process.exitCode = failed === 0 ? 0 : 1
