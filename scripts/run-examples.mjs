#!/usr/bin/env node
// Quick start: the bundled CLI (dist/) over the bundled examples, for each of the five seed patterns.
// Image facts come from examples/image-inspect.json and nothing is built (dry run): no network, no Docker.
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(tmpdir(), 'lacework-fargate-examples')
mkdirSync(out, { recursive: true })

const patterns = [
  ['root-sidecar', 'nginx-root.json', []],
  ['root-embedded', 'nginx-root.json', ['--mode', 'embedded']],
  ['nonroot-sidecar', 'nginx-nonroot.json', []],
  ['nonroot-embedded', 'nginx-nonroot.json', ['--mode', 'embedded']],
  ['nonroot-as-root-sidecar', 'nginx-nonroot.json', ['--non-root-strategy', 'run-as-root']]
]

let failed = 0
for (const [pattern, file, flags] of patterns) {
  const output = join(out, `${pattern}.json`)
  process.stdout.write(`\n=== ${pattern}: examples/${file} ${flags.join(' ')}\n`)
  const run = spawnSync(
    process.execPath,
    [
      join(root, 'dist/cli/index.js'),
      '--task-definition', join('examples', file),
      '--image-inspect-file', join('examples', 'image-inspect.json'),
      '--lacework-access-token-secret', 'arn:aws:ssm:eu-central-1:012345678901:parameter/lacework/access-token',
      '--lacework-server-url', 'https://api.fra.lacework.net',
      '--target-image', '012345678901.dkr.ecr.eu-central-1.amazonaws.com/nginx',
      '--dry-run',
      // No network here: the agent image's digest cannot be looked up.
      '--pin-agent-image', 'false',
      '--output', output,
      ...flags
    ],
    { cwd: root, encoding: 'utf8' }
  )
  process.stdout.write(run.stderr)
  if (run.status !== 0) failed++
}
process.stdout.write(`\nWritten to ${out}/. ${patterns.length - failed} of ${patterns.length} patterns done.\n`)
process.exitCode = failed ? 1 : 0
