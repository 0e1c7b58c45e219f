import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// scripts/release.mjs on scratch repositories: real git, real npm run package, no network.
const SCRIPT = fileURLToPath(new URL('../scripts/release.mjs', import.meta.url))

const CHANGELOG = `# Changelog

All notable changes to this project are documented in this file.
The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/).

## [Unreleased]

### Added

- Something not released yet.

## [1.0.0] - 2026-03-02

### Added

- The first stable release.
- A second line with \`code\` and a [link](https://example.com).

### Fixed

- A bug.

## [0.9.0] - 2026-01-15

### Added

- The preview.

[unreleased]: https://github.com/org/lacework-fargate/compare/v1.0.0...HEAD
[1.0.0]: https://github.com/org/lacework-fargate/compare/v0.9.0...v1.0.0
[0.9.0]: https://github.com/org/lacework-fargate/releases/tag/v0.9.0
`

// The package step copies every file of src/ to dist/ with a banner: cheap, but a real build that a stale dist/ differs from.
const BUILD = `import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
mkdirSync('dist', { recursive: true })
for (const file of readdirSync('src')) writeFileSync('dist/' + file, '// built\\n' + readFileSync('src/' + file, 'utf8'))
`

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Release Test',
  GIT_AUTHOR_EMAIL: 'release-test@example.com',
  GIT_COMMITTER_NAME: 'Release Test',
  GIT_COMMITTER_EMAIL: 'release-test@example.com',
  GIT_CONFIG_NOSYSTEM: '1'
}

const scratches: string[] = []
afterAll(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true })
})

function git(dir: string, ...args: string[]): string {
  const result = spawnSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, env: GIT_ENV, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

/** A repository as a release would find it: version 1.0.0, a changelog, dist/ built from src/ and committed. */
function scratch(version = '1.0.0', changelog = CHANGELOG): string {
  const dir = mkdtempSync(join(tmpdir(), 'lwf-release-'))
  scratches.push(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', version, private: true, scripts: { package: 'node build.mjs' } }, null, 2))
  writeFileSync(join(dir, 'CHANGELOG.md'), changelog)
  writeFileSync(join(dir, 'build.mjs'), BUILD)
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'src/index.js'), "console.log('v1')\n")
  git(dir, 'init', '-q')
  const build = spawnSync('npm', ['run', 'package'], { cwd: dir, encoding: 'utf8' })
  expect(build.status).toBe(0)
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'release')
  return dir
}

function release(dir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: dir, encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** A refusal: exit 1 and one line that says why. */
function expectRefusal(result: { status: number | null; stdout: string; stderr: string }, why: RegExp): void {
  expect(result.status).toBe(1)
  expect(result.stdout).toBe('')
  expect(result.stderr.endsWith('\n')).toBe(true)
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(result.stderr).toMatch(why)
}

describe('release check', () => {
  it('passes a vX.Y.Z tag on a fresh commit whose version, changelog and dist/ agree', () => {
    const dir = scratch()
    const result = release(dir, 'check', 'v1.0.0')
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^v1\.0\.0: ready/)
    // The check rebuilt dist/ and found nothing to commit.
    expect(git(dir, 'status', '--porcelain')).toBe('')
  })

  it('refuses a tag whose version differs from package.json', () => {
    expectRefusal(release(scratch(), 'check', 'v1.0.1'), /^release check: tag v1\.0\.1 says 1\.0\.1 but package\.json says 1\.0\.0/)
  })

  it.each([['1.0.0'], ['v1.0'], ['v1.0.0-rc.1'], ['v01.0.0'], ['']])('refuses %j, which is not vX.Y.Z', tag => {
    expectRefusal(release(scratch(), 'check', tag), /^release check: tag ".*" is not vX\.Y\.Z/)
  })

  it('refuses a version that CHANGELOG.md has no section for', () => {
    const dir = scratch('1.1.0')
    expectRefusal(release(dir, 'check', 'v1.1.0'), /^release check: CHANGELOG\.md has no "## \[1\.1\.0\] - YYYY-MM-DD" section/)
  })

  it('refuses a version whose CHANGELOG.md section is empty', () => {
    const dir = scratch('1.0.0', '# Changelog\n\n## [1.0.0] - 2026-03-02\n\n## [0.9.0] - 2026-01-15\n\n- The preview.\n')
    expectRefusal(release(dir, 'check', 'v1.0.0'), /section for 1\.0\.0 is empty/)
  })

  it('refuses a stale dist/ and names the file: the source changed but dist/ was not rebuilt', () => {
    const dir = scratch()
    writeFileSync(join(dir, 'src/index.js'), "console.log('v2')\n")
    git(dir, 'commit', '-q', '-am', 'change the source only')
    const result = release(dir, 'check', 'v1.0.0')
    expectRefusal(result, /^release check: dist\/ is stale/)
    expect(result.stderr).toContain('dist/index.js')
  })

  it('names a file the build adds to dist/ that was never committed', () => {
    const dir = scratch()
    writeFileSync(join(dir, 'src/extra.js'), 'export const extra = 1\n')
    git(dir, 'add', 'src/extra.js')
    git(dir, 'commit', '-q', '-m', 'a new source file')
    const result = release(dir, 'check', 'v1.0.0')
    expectRefusal(result, /^release check: dist\/ is stale/)
    expect(result.stderr).toContain('dist/extra.js')
    expect(result.stderr).not.toContain('dist/index.js')
  })

  it('refuses when the build itself fails', () => {
    const dir = scratch()
    writeFileSync(join(dir, 'build.mjs'), 'process.exit(3)\n')
    git(dir, 'commit', '-q', '-am', 'break the build')
    const result = release(dir, 'check', 'v1.0.0')
    expect(result.status).toBe(1)
    expect(result.stderr.trimEnd().split('\n').pop()).toMatch(/^release check: npm run package failed \(exit 3\)/)
  })
})

describe('release notes', () => {
  it('prints exactly the body of the version section', () => {
    const result = release(scratch(), 'notes', '1.0.0')
    expect(result.status).toBe(0)
    expect(result.stdout).toBe(
      [
        '### Added',
        '',
        '- The first stable release.',
        '- A second line with `code` and a [link](https://example.com).',
        '',
        '### Fixed',
        '',
        '- A bug.',
        ''
      ].join('\n')
    )
  })

  it('leaves out the link definitions that follow the last section, and takes a v-prefixed version too', () => {
    const result = release(scratch(), 'notes', 'v0.9.0')
    expect(result.status).toBe(0)
    expect(result.stdout).toBe('### Added\n\n- The preview.\n')
  })

  it('refuses a version without a section', () => {
    expectRefusal(release(scratch(), 'notes', '2.0.0'), /^release notes: CHANGELOG\.md has no "## \[2\.0\.0\]" section/)
  })
})

describe('release major', () => {
  it.each([
    ['v1.2.3', 'v1'],
    ['v0.1.0', 'v0'],
    ['v12.0.4', 'v12']
  ])('%s → %s', (tag, major) => {
    const result = release(tmpdir(), 'major', tag)
    expect(result).toEqual({ status: 0, stdout: `${major}\n`, stderr: '' })
  })

  it('refuses a tag that is not vX.Y.Z', () => {
    expectRefusal(release(tmpdir(), 'major', 'v1'), /^release major: tag "v1" is not vX\.Y\.Z/)
  })

  it('names the subcommands when given none it knows', () => {
    const result = release(tmpdir(), 'publish', 'v1.0.0')
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^usage: node scripts\/release\.mjs check <tag> \| notes <version> \| major <tag>/)
  })
})

// CONTRIBUTING.md's "Releasing" steps on a clone of this repository's HEAD, as written there (the dependencies linked
// rather than installed: no network here): the check the release workflow runs must then say the tag is ready, and
// the notes must be this changelog's Unreleased entries.
describe('cutting v1.0.0 from a fresh clone by CONTRIBUTING.md', () => {
  it('bump, move the changelog entries, package, commit: the check passes and the notes are the entries', () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const dir = mkdtempSync(join(tmpdir(), 'lwf-release-clone-'))
    scratches.push(dir)
    git(dir, 'clone', '-q', root, 'repo')
    const repo = join(dir, 'repo')
    symlinkSync(join(root, 'node_modules'), join(repo, 'node_modules'))
    const before = readFileSync(join(repo, 'CHANGELOG.md'), 'utf8')
    const entries = before.slice(before.indexOf('## [Unreleased]\n') + '## [Unreleased]\n'.length, before.indexOf('\n[unreleased]:')).trim()
    expect(entries.length).toBeGreaterThan(0)

    // Step 2.
    const bump = spawnSync('npm', ['version', '1.0.0', '--no-git-tag-version'], { cwd: repo, encoding: 'utf8' })
    expect(bump.status).toBe(0)
    // Step 3: the Unreleased entries under a version heading, a new empty Unreleased above, the links updated.
    const changelog = before
      .replace('## [Unreleased]\n', '## [Unreleased]\n\n## [1.0.0] - 2026-11-29\n')
      .replace(/^\[unreleased\]: .*$/m, '[unreleased]: https://github.com/org/lacework-fargate/compare/v1.0.0...HEAD\n[1.0.0]: https://github.com/org/lacework-fargate/releases/tag/v1.0.0')
    writeFileSync(join(repo, 'CHANGELOG.md'), changelog)
    // Step 4.
    const build = spawnSync('npm', ['run', 'package'], { cwd: repo, encoding: 'utf8' })
    expect(build.status).toBe(0)
    // Step 5.
    git(repo, 'add', 'package.json', 'package-lock.json', 'CHANGELOG.md', 'dist')
    git(repo, 'commit', '-q', '-m', 'Release 1.0.0')
    const check = release(repo, 'check', 'v1.0.0')
    expect(check).toEqual({ status: 0, stdout: 'v1.0.0: ready (package.json 1.0.0, CHANGELOG.md section, dist/ fresh)\n', stderr: '' })
    expect(release(repo, 'notes', '1.0.0').stdout).toBe(`${entries}\n`)
    // The bundle now says the new version: the CLI's --version and the review's footer come from it.
    const version = spawnSync(process.execPath, [join(repo, 'dist/cli/index.js'), '--version'], { encoding: 'utf8' })
    expect(version.stdout).toBe('1.0.0\n')
  })
})
