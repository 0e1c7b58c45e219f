#!/usr/bin/env node
// What the bundled action does on every example, for a refactor's proof that behaviour is unchanged:
//   node scripts/examples-record.mjs <checkout>/dist/index.js <checkout> <out-folder>   (once for the old checkout, once for the new)
//   diff -r <old-out> <new-out>
// Each example file × mode × strategy × token kind runs as a runner runs the action (INPUT_*, GITHUB_OUTPUT, a step
// summary, dry run, saved image facts: no network, no Docker); the written file, outputs, summary and log are recorded.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const [dist, root, outDir] = process.argv.slice(2)
const node = join(root, 'node_modules/node/bin/node')
const files = ['examples/nginx-root.json', 'examples/nginx-nonroot.json', ...readdirSync(join(root, 'examples/seed')).filter(f => f.endsWith('.json')).map(f => `examples/seed/${f}`)]
const combos = []
for (const mode of ['sidecar', 'embedded']) for (const strategy of ['sudo', 'run-as-root', 'drop-privileges']) for (const token of ['secret', 'plain']) combos.push({ mode, strategy, token })
const lines = []
for (const file of files) for (const c of combos) {
  const temp = mkdtempSync(join(tmpdir(), 'lwf-ex-'))
  const out = join(temp, 'github-output'); writeFileSync(out, '')
  const summary = join(temp, 'summary.md'); writeFileSync(summary, '')
  const inputs = { 'task-definition': file, 'image-inspect-file': 'examples/image-inspect.json', mode: c.mode, 'non-root-strategy': c.strategy, 'target-image': '012345678901.dkr.ecr.eu-central-1.amazonaws.com/nginx', 'dry-run': 'true', 'pin-agent-image': 'false', 'lacework-server-url': 'https://api.fra.lacework.net' }
  if (c.token === 'secret') inputs['lacework-access-token-secret'] = 'arn:aws:ssm:eu-central-1:012345678901:parameter/lacework/access-token'
  else inputs['lacework-access-token'] = 'exampleToken_0123456789abcdef'
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: temp, ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])) }
  const run = spawnSync(node, [dist], { cwd: root, env, encoding: 'utf8' })
  const written = join(temp, 'lacework-fargate', file.split('/').pop())
  const text = existsSync(written) ? readFileSync(written, 'utf8') : '(none)'
  const outputs = readFileSync(out, 'utf8').replace(/ghadelimiter_[0-9a-f-]+/g, 'D')
  const log = run.stdout.replaceAll(temp, 'TEMP')
  const name = `${file} ${c.mode} ${c.strategy} ${c.token}`.replace(/[ /]/g, '_')
  writeFileSync(join(outDir, name), `status ${run.status}\n--- file\n${text}\n--- outputs\n${outputs.replaceAll(temp, 'TEMP')}\n--- summary\n${readFileSync(summary, 'utf8')}\n--- log\n${log}\n--- stderr\n${run.stderr}`)
  lines.push(name)
}
console.log(`${lines.length} runs`)
