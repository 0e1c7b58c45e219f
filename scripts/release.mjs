#!/usr/bin/env node
// Release helpers for the release workflow and for people cutting a release by hand (CONTRIBUTING.md, "Releasing").
//   node scripts/release.mjs check <tag>      refuses a tag that is not ready to release (exit 1, one line saying why)
//   node scripts/release.mjs notes <version>  prints that version's CHANGELOG.md section (Keep a Changelog 1.1.0)
//   node scripts/release.mjs major <tag>      prints the major tag that follows the release (v1 for v1.2.3)
// It works on the repository in the current directory, so that a test can run it on a scratch repository.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

const TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/

class Refusal extends Error {}

function parseTag(tag) {
  const match = TAG.exec(tag ?? '')
  if (!match) throw new Refusal(`tag ${JSON.stringify(tag ?? '')} is not vX.Y.Z (for example v1.2.3)`)
  return { version: `${match[1]}.${match[2]}.${match[3]}`, major: `v${match[1]}` }
}

/** The body of `## [version] - date` in Keep a Changelog text, blank lines and trailing link definitions trimmed; undefined when absent. */
function changelogSection(text, version) {
  const lines = text.split(/\r?\n/)
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const heading = new RegExp(`^## \\[${escaped}\\](?:\\s|$)`)
  const start = lines.findIndex(line => heading.test(line))
  if (start === -1) return undefined
  let end = lines.findIndex((line, index) => index > start && /^## /.test(line))
  if (end === -1) end = lines.length
  const body = lines.slice(start + 1, end)
  // The last section is followed by the file's link definitions ([1.0.0]: https://…): they belong to the file, not the release.
  while (body.length > 0 && (body[body.length - 1].trim() === '' || /^\[[^\]]+\]:\s/.test(body[body.length - 1]))) body.pop()
  while (body.length > 0 && body[0].trim() === '') body.shift()
  return body.join('\n')
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Refusal(`cannot read ${file}: ${error.message}`)
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (result.error) throw new Refusal(`cannot run ${command}: ${result.error.message}`)
  return result
}

function check(tag) {
  const { version } = parseTag(tag)
  const declared = readJson('package.json').version
  if (declared !== version) {
    throw new Refusal(`tag ${tag} says ${version} but package.json says ${declared}: set "version": "${version}" in package.json or tag v${declared}`)
  }
  const changelog = existsSync('CHANGELOG.md') ? readFileSync('CHANGELOG.md', 'utf8') : undefined
  if (changelog === undefined) throw new Refusal(`CHANGELOG.md is missing: add it with a "## [${version}] - YYYY-MM-DD" section`)
  const section = changelogSection(changelog, version)
  if (section === undefined) throw new Refusal(`CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section: move the Unreleased entries under one`)
  if (section.trim() === '') throw new Refusal(`CHANGELOG.md's section for ${version} is empty: the release notes would be blank`)

  // The action runs the committed dist/: a tag whose dist/ is not the bundle of its source would ship old code.
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const build = run(npm, ['run', 'package'])
  if (build.status !== 0) {
    process.stderr.write(build.stdout + build.stderr)
    throw new Refusal(`npm run package failed (exit ${build.status}): fix the build, then tag again`)
  }
  const status = run('git', ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', 'dist'])
  if (status.status !== 0) throw new Refusal(`git status failed: ${status.stderr.trim()}`)
  const stale = status.stdout
    .split('\0')
    .filter(Boolean)
    .map(entry => entry.slice(3))
  if (stale.length > 0) {
    throw new Refusal(`dist/ is stale (npm run package changed ${stale.join(', ')}): commit the rebuilt dist/ and tag that commit`)
  }
  return `${tag}: ready (package.json ${version}, CHANGELOG.md section, dist/ fresh)`
}

function notes(version) {
  const bare = (version ?? '').replace(/^v/, '')
  if (!/^\d+\.\d+\.\d+$/.test(bare)) throw new Refusal(`version ${JSON.stringify(version ?? '')} is not X.Y.Z`)
  const file = existsSync('CHANGELOG.md') ? readFileSync('CHANGELOG.md', 'utf8') : ''
  const section = changelogSection(file, bare)
  if (section === undefined) throw new Refusal(`CHANGELOG.md has no "## [${bare}]" section`)
  return section
}

const commands = { check, notes, major: tag => parseTag(tag).major }

const [name, argument] = process.argv.slice(2)
const command = Object.hasOwn(commands, name ?? '') ? commands[name] : undefined
if (!command) {
  process.stderr.write('usage: node scripts/release.mjs check <tag> | notes <version> | major <tag>\n')
  process.exit(2)
}
try {
  process.stdout.write(`${command(argument)}\n`)
} catch (error) {
  if (!(error instanceof Refusal)) throw error
  process.stderr.write(`release ${name}: ${error.message}\n`)
  process.exit(1)
}
