import { createHash } from 'node:crypto'
import { AGENT_SCRIPT } from '../../../../src/core/agent.js'
import { readSudoers } from '../../../../src/core/audit/sudoers.js'
import { SUDOERS_FILE, sudoersRules } from '../../../../src/core/dockerfile.js'

// Debian 12 (bookworm), package sudo 1.9.13p3-1+deb12u4 (`apt-get download sudo`, `dpkg-deb -x`): /etc/sudoers and
// /etc/sudoers.d/README exactly as shipped; the first test checks them against the package files' sha256.
const DEBIAN_SUDOERS = `#
# This file MUST be edited with the 'visudo' command as root.
#
# Please consider adding local content in /etc/sudoers.d/ instead of
# directly modifying this file.
#
# See the man page for details on how to write a sudoers file.
#
Defaults\tenv_reset
Defaults\tmail_badpass
Defaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# This fixes CVE-2005-4890 and possibly breaks some versions of kdesu
# (#1011624, https://bugs.kde.org/show_bug.cgi?id=452532)
Defaults\tuse_pty

# This preserves proxy settings from user environments of root
# equivalent users (group sudo)
#Defaults:%sudo env_keep += "http_proxy https_proxy ftp_proxy all_proxy no_proxy"

# This allows running arbitrary commands, but so does ALL, and it means
# different sudoers have their choice of editor respected.
#Defaults:%sudo env_keep += "EDITOR"

# Completely harmless preservation of a user preference.
#Defaults:%sudo env_keep += "GREP_COLOR"

# While you shouldn't normally run git as root, you need to with etckeeper
#Defaults:%sudo env_keep += "GIT_AUTHOR_* GIT_COMMITTER_*"

# Per-user preferences; root won't have sensible values for them.
#Defaults:%sudo env_keep += "EMAIL DEBEMAIL DEBFULLNAME"

# "sudo scp" or "sudo rsync" should be able to use your SSH agent.
#Defaults:%sudo env_keep += "SSH_AGENT_PID SSH_AUTH_SOCK"

# Ditto for GPG agent
#Defaults:%sudo env_keep += "GPG_AGENT_INFO"

# Host alias specification

# User alias specification

# Cmnd alias specification

# User privilege specification
root\tALL=(ALL:ALL) ALL

# Allow members of group sudo to execute any command
%sudo\tALL=(ALL:ALL) ALL

# See sudoers(5) for more information on "@include" directives:

@includedir /etc/sudoers.d
`

const DEBIAN_README = `#
# The default /etc/sudoers file created on installation of the
# sudo  package now includes the directive:
# 
# \t@includedir /etc/sudoers.d
# 
# This will cause sudo to read and parse any files in the /etc/sudoers.d 
# directory that do not end in '~' or contain a '.' character.
# 
# Note that there must be at least one file in the sudoers.d directory (this
# one will do).
# 
# Note also, that because sudoers contents can vary widely, no attempt is 
# made to add this directive to existing sudoers files on upgrade.  Feel free
# to add the above directive to the end of your /etc/sudoers file to enable 
# this functionality for existing installations if you wish! Sudo
# versions older than the one in Debian 11 (bullseye) require the
# directive will only support the old syntax #includedir, and the current
# sudo will happily accept both @includedir and #includedir
#
# Finally, please note that using the visudo command is the recommended way
# to update sudoers content, since it protects against many failure modes.
# See the man page for visudo and sudoers for more information.
#
`

const NGINX = { name: 'nginx', uid: 101 }
const ACTION_RULE = `${sudoersRules('101').join('\n')}\n`
const NO_PASSWORD_ALL = 'ALL=(ALL) NOPASSWD: ALL'

/** An image's sudo files: Debian's, plus `extra` (path → text). */
function debian(extra: Record<string, string> = {}, sudoers = DEBIAN_SUDOERS): Record<string, string> {
  return { '/etc/sudoers': sudoers, '/etc/sudoers.d/README': DEBIAN_README, ...extra }
}

/** 1-based number of the line of `text` that is exactly `line`. */
function lineOf(text: string, line: string): number {
  const index = text.split('\n').indexOf(line)
  if (index < 0) throw new Error(`fixture has no line ${line}`)
  return index + 1
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

describe('the fixtures', () => {
  it("are Debian's files byte for byte", () => {
    expect(sha256(DEBIAN_SUDOERS)).toBe('76d0f5775326cea72600a8d590342ca1173403e5bee040fbfc9bded896492c98')
    expect(sha256(DEBIAN_README)).toBe('016d919662c52917d4bb5976f50519011c333ab3b0ba686370bba16dec88baf5')
  })
})

describe('broaderThanAgent', () => {
  it("reports the seed's %sudo rule, appended to Debian's sudoers, for a user in group sudo: file, line, no password", () => {
    // The seed's Dockerfile: usermod -aG sudo $(id -nu 101) && echo '%sudo ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers
    const seed = '%sudo ALL=(ALL) NOPASSWD:ALL'
    const sudoers = `${DEBIAN_SUDOERS}${seed}\n`
    const hits = readSudoers(debian({}, sudoers)).broaderThanAgent(NGINX, ['nginx', 'sudo'])
    expect(hits.map(hit => [hit.file, hit.line, hit.kind, hit.via, hit.passwordRequired])).toEqual([
      // Debian's own rule for group sudo: everything, with a password
      ['/etc/sudoers', lineOf(sudoers, '%sudo\tALL=(ALL:ALL) ALL'), 'all', '%sudo', true],
      ['/etc/sudoers', lineOf(sudoers, seed), 'all', '%sudo', false]
    ])
    expect(hits[1].entry).toBe(seed)
  })

  it('reports nothing for the same rule when the user is not in group sudo', () => {
    const files = debian({}, `${DEBIAN_SUDOERS}%sudo ALL=(ALL) NOPASSWD:ALL\n`)
    expect(readSudoers(files).broaderThanAgent(NGINX, ['nginx'])).toEqual([])
  })

  it("reports nothing for the action's own rule in Debian's stock sudoers", () => {
    const sudoers = readSudoers(debian({ [SUDOERS_FILE]: ACTION_RULE }))
    expect(sudoers.problems).toEqual([])
    expect(sudoers.broaderThanAgent(NGINX, ['nginx'])).toEqual([])
    expect(sudoers.broaderThanAgent('101')).toEqual([])
    expect(sudoers.broaderThanAgent('101:101', ['101'])).toEqual([])
  })

  it('reports the agent script allowed with arguments: it execs them as root', () => {
    for (const command of [AGENT_SCRIPT, `${AGENT_SCRIPT} /bin/sh`, `${AGENT_SCRIPT} *`]) {
      const hits = readSudoers(debian({ '/etc/sudoers.d/agent': `#101 ALL=(root) NOPASSWD: ${command}\n` })).broaderThanAgent(NGINX)
      expect(hits.map(hit => [hit.file, hit.line, hit.kind, hit.passwordRequired])).toEqual([['/etc/sudoers.d/agent', 1, 'agent-arguments', false]])
    }
  })

  it('reports SETENV on the agent script: sudo -E then passes PATH and LD_PRELOAD', () => {
    const rule = `#101 ALL=(root) NOPASSWD:SETENV: ${AGENT_SCRIPT} ""`
    const hits = readSudoers(debian({ '/etc/sudoers.d/agent': `# the agent\n${rule}\n` })).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.file, hit.line, hit.kind, hit.entry])).toEqual([['/etc/sudoers.d/agent', 2, 'setenv', rule]])
  })

  it('reports the setenv flag set for the agent script by Defaults!', () => {
    const files = debian({ [SUDOERS_FILE]: `${ACTION_RULE}Defaults!${AGENT_SCRIPT} setenv\n` })
    // The line after the action's own rule.
    expect(readSudoers(files).broaderThanAgent(NGINX).map(hit => [hit.line, hit.kind])).toEqual([[ACTION_RULE.split('\n').length, 'setenv']])
  })

  it('reports Defaults env_keep += "LD_PRELOAD" next to the action\'s rule, at the Defaults line', () => {
    const files = debian({ [SUDOERS_FILE]: ACTION_RULE, '/etc/sudoers.d/local': 'Defaults env_keep += "LD_PRELOAD"\n' })
    const hits = readSudoers(files).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.file, hit.line, hit.kind])).toEqual([['/etc/sudoers.d/local', 1, 'environment']])
    expect(hits[0].detail).toContain('LD_PRELOAD')
    expect(hits[0].via).toBe('#101')
  })

  it('reports env_keep patterns that cover PATH-like variables, and not harmless ones', () => {
    const keep = (value: string) =>
      readSudoers(debian({ [SUDOERS_FILE]: `${ACTION_RULE}Defaults:nginx env_keep += "${value}"\n` }))
        .broaderThanAgent(NGINX)
        .map(hit => hit.detail)
    expect(keep('LD_*')).toEqual([expect.stringContaining('LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT')])
    expect(keep('BASH_ENV')).toEqual([expect.stringContaining('BASH_ENV')])
    expect(keep('LANG LC_*')).toEqual([])
    // secure_path replaces PATH after env_keep is applied
    expect(keep('PATH')).toEqual([])
  })

  it("reports a sudoers without secure_path: sudo keeps the caller's PATH for the root script", () => {
    // Checked with the real sudo 1.9.13p3 in a Debian 12 image (and proven in __tests__/sudo-rule.test.ts): with no
    // secure_path anywhere, `PATH=/tmp/evil:$PATH sudo -n <agent script>` runs /tmp/evil/whoami as uid 0.
    const upstream = 'root ALL=(ALL) ALL\n@includedir /etc/sudoers.d\n'
    const withoutOwn = ACTION_RULE.split('\n').filter(line => !line.includes('secure_path')).join('\n')
    const hits = readSudoers(debian({ [SUDOERS_FILE]: withoutOwn }, upstream)).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.file, hit.kind])).toEqual([[SUDOERS_FILE, 'environment']])
    expect(hits[0].detail).toContain('PATH')
    // The action's rule sets its own secure_path: safe whatever the image's sudoers says.
    expect(readSudoers(debian({ [SUDOERS_FILE]: ACTION_RULE }, upstream)).broaderThanAgent(NGINX)).toEqual([])
    // Without PATH in env_keep, sudo sets its own default PATH.
    const dropped = `${withoutOwn}\nDefaults!${AGENT_SCRIPT} env_keep -= "PATH"\n`
    expect(readSudoers(debian({ [SUDOERS_FILE]: dropped }, upstream)).broaderThanAgent(NGINX)).toEqual([])
  })

  it('reports secure_path not applying to members of exempt_group', () => {
    const files = debian({ [SUDOERS_FILE]: ACTION_RULE, '/etc/sudoers.d/exempt': 'Defaults exempt_group=nginx\n' })
    expect(readSudoers(files).broaderThanAgent(NGINX, ['nginx']).map(hit => hit.kind)).toEqual(['environment'])
    expect(readSudoers(files).broaderThanAgent(NGINX, ['other'])).toEqual([])
  })

  it('reports !env_reset for the user, and not for a group the user is not in', () => {
    const forUser = debian({ [SUDOERS_FILE]: ACTION_RULE, '/etc/sudoers.d/env': 'Defaults:nginx !env_reset\n' })
    expect(readSudoers(forUser).broaderThanAgent(NGINX).map(hit => [hit.file, hit.line, hit.kind])).toEqual([['/etc/sudoers.d/env', 1, 'environment']])
    const forGroup = debian({ [SUDOERS_FILE]: ACTION_RULE, '/etc/sudoers.d/env': 'Defaults:%sudo !env_reset\n' })
    expect(readSudoers(forGroup).broaderThanAgent(NGINX, ['nginx'])).toEqual([])
  })

  it('reports #101 ALL=(ALL) ALL, which asks for a password', () => {
    const hits = readSudoers(debian({ '/etc/sudoers.d/app': '#101 ALL=(ALL) ALL\n' })).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.line, hit.kind, hit.via, hit.passwordRequired])).toEqual([[1, 'all', '#101', true]])
  })

  it('counts Defaults !authenticate as no password', () => {
    const hits = readSudoers(debian({ '/etc/sudoers.d/app': 'Defaults !authenticate\n#101 ALL=(ALL) ALL\n' })).broaderThanAgent(NGINX)
    expect(hits.map(hit => hit.passwordRequired)).toEqual([false])
  })

  it('reports nothing for rules of other users and groups', () => {
    const others = [`#102 ${NO_PASSWORD_ALL}`, `www-data ${NO_PASSWORD_ALL}`, `%wheel ${NO_PASSWORD_ALL}`, `%#27 ${NO_PASSWORD_ALL}`].join('\n')
    expect(readSudoers(debian({ '/etc/sudoers.d/others': `${others}\n` })).broaderThanAgent(NGINX, ['nginx', '101'])).toEqual([])
  })

  it.each(['sudo', 'wheel', 'admin'])('reports %%%s rules when the user is in the group', group => {
    const files = debian({ '/etc/sudoers.d/admins': `%${group} ${NO_PASSWORD_ALL}\n` })
    const hits = readSudoers(files).broaderThanAgent(NGINX, ['nginx', group])
    // Debian's own %sudo rule (with a password) is reported too for sudo; this one is the drop-in's.
    const own = hits.filter(hit => hit.file === '/etc/sudoers.d/admins')
    expect(own.map(hit => [hit.kind, hit.via, hit.passwordRequired])).toEqual([['all', `%${group}`, false]])
    expect(readSudoers(files).broaderThanAgent(NGINX, ['nginx'])).toEqual([])
  })

  it('matches groups by gid and quoted names', () => {
    const files = debian({ '/etc/sudoers.d/admins': `%#27 ${NO_PASSWORD_ALL}\n"%app users" ${NO_PASSWORD_ALL}\n` })
    expect(readSudoers(files).broaderThanAgent(NGINX, ['27']).map(hit => hit.line)).toEqual([1])
    expect(readSudoers(files).broaderThanAgent(NGINX, ['app users']).map(hit => hit.line)).toEqual([2])
  })

  it('reports ALL ALL=…, which holds for every user', () => {
    const hits = readSudoers(debian({ '/etc/sudoers.d/all': `ALL ${NO_PASSWORD_ALL}\n` })).broaderThanAgent({ uid: 4242 })
    expect(hits.map(hit => [hit.kind, hit.via])).toEqual([['all', 'ALL']])
  })

  it('applies a negated user the way sudo does: the last matching item decides', () => {
    const files = debian({ '/etc/sudoers.d/all': `ALL, !#101 ${NO_PASSWORD_ALL}\n` })
    expect(readSudoers(files).broaderThanAgent({ uid: 101 })).toEqual([])
    expect(readSudoers(files).broaderThanAgent({ uid: 102 }).map(hit => hit.kind)).toEqual(['all'])
  })

  it('resolves User_Alias, Runas_Alias and Cmnd_Alias, and tells shells from editors', () => {
    const text = [
      'User_Alias APPS = nobody, #101',
      'Runas_Alias ADMINS = root',
      'Cmnd_Alias SHELLS = /bin/sh, /usr/bin/vi',
      'APPS ALL = (ADMINS) NOPASSWD: SHELLS'
    ].join('\n')
    const hits = readSudoers(debian({ '/etc/sudoers.d/aliases': `${text}\n` })).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.line, hit.kind, hit.via])).toEqual([
      [4, 'shell', 'APPS'],
      [4, 'editor', 'APPS']
    ])
  })

  it('reports nothing for commands run as another user or with a group only', () => {
    const text = `#101 ALL=(www-data) NOPASSWD: ALL\n#101 ALL=(:adm) NOPASSWD: ALL\n`
    expect(readSudoers(debian({ '/etc/sudoers.d/other': text })).broaderThanAgent(NGINX)).toEqual([])
  })

  it('honours runas_default for rules without a Runas_Spec', () => {
    const text = `Defaults runas_default=www-data\n#101 ALL = NOPASSWD: ALL\n`
    expect(readSudoers(debian({ '/etc/sudoers.d/other': text })).broaderThanAgent(NGINX)).toEqual([])
  })

  it('reports wildcards, regular expressions, directories, sudoedit and other commands', () => {
    const text = [
      '#101 ALL=(root) NOPASSWD: /var/lib/lacework-backup/*',
      '#101 ALL=(root) NOPASSWD: ^/var/lib/lacework-backup/.*$',
      '#101 ALL=(root) NOPASSWD: /var/lib/lacework-backup/',
      '#101 ALL=(root) NOPASSWD: sudoedit /etc/hosts',
      '#101 ALL=(root) NOPASSWD: /usr/bin/id'
    ].join('\n')
    const hits = readSudoers(debian({ '/etc/sudoers.d/misc': `${text}\n` })).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.line, hit.kind])).toEqual([
      [1, 'wildcard'],
      [2, 'wildcard'],
      [3, 'directory'],
      [4, 'sudoedit'],
      [5, 'command']
    ])
  })

  it('reads comments and continuation lines as sudo does, reporting the line an entry starts on', () => {
    const text = ['# 101 ALL=(ALL) NOPASSWD: ALL', '#101 ALL=(root) NOPASSWD: /usr/bin/id, \\', '     /bin/sh # a shell, \\', '/bin/bash'].join('\n')
    const hits = readSudoers(debian({ '/etc/sudoers.d/misc': `${text}\n` })).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.line, hit.kind, hit.detail])).toEqual([
      [2, 'command', 'runs /usr/bin/id as root'],
      [2, 'shell', 'runs the shell or interpreter /bin/sh as root']
    ])
  })

  it('reads only includedir files without a dot or a trailing ~, README included, in lexical order', () => {
    const rule = `#101 ${NO_PASSWORD_ALL}\n`
    const files = debian({
      '/etc/sudoers.d/README': `${DEBIAN_README}${rule}`,
      '/etc/sudoers.d/10-app': rule,
      '/etc/sudoers.d/app.bak': rule,
      '/etc/sudoers.d/app~': rule,
      '/etc/sudoers.d/sub/app': rule
    })
    const hits = readSudoers(files).broaderThanAgent(NGINX)
    expect(hits.map(hit => [hit.file, hit.line])).toEqual([
      ['/etc/sudoers.d/10-app', 1],
      ['/etc/sudoers.d/README', DEBIAN_README.split('\n').length]
    ])
  })

  it('follows @include and #include, relative to the including file, quoted or escaped', () => {
    const sudoers = `${DEBIAN_SUDOERS}@include sudoers.local\n#include "/etc/sudo local"\n@include /etc/sudo\\ local2\n@include /etc/missing\n`
    const files = debian(
      {
        '/etc/sudoers.local': `#101 ALL=(root) NOPASSWD: /usr/bin/id\n`,
        '/etc/sudo local': `#101 ALL=(root) NOPASSWD: /usr/bin/env\n`,
        '/etc/sudo local2': `#101 ALL=(root) NOPASSWD: /bin/ls\n`
      },
      sudoers
    )
    const read = readSudoers(files)
    expect(read.broaderThanAgent(NGINX).map(hit => [hit.file, hit.kind])).toEqual([
      ['/etc/sudoers.local', 'command'],
      ['/etc/sudo local', 'shell'],
      ['/etc/sudo local2', 'command']
    ])
    expect(read.problems).toEqual([{ file: '/etc/missing', message: expect.stringContaining('not among the files') }])
  })

  it('skips an entry it cannot read, says where, and answers for the rest', () => {
    const read = readSudoers(debian({ '/etc/sudoers.d/broken': `#101 ALL=(root NOPASSWD: ALL\n#101 ${NO_PASSWORD_ALL}\n` }))
    expect(read.problems).toEqual([{ file: '/etc/sudoers.d/broken', line: 1, message: expect.stringContaining('skipped') }])
    expect(read.broaderThanAgent(NGINX).map(hit => hit.line)).toEqual([2])
  })

  it('counts a rule for a named host, which the image cannot rule out', () => {
    expect(readSudoers(debian({ '/etc/sudoers.d/host': `#101 db-1 = (root) NOPASSWD: ALL\n` })).broaderThanAgent(NGINX).map(hit => hit.kind)).toEqual(['all'])
  })

  it('reads digests, options and tags in front of the agent script without counting them', () => {
    const rule = `#101 ALL=(root) TIMEOUT=10 NOPASSWD:NOEXEC: sha256:0123abcd ${AGENT_SCRIPT} ""`
    const read = readSudoers(debian({ '/etc/sudoers.d/agent': `${rule}\n` }))
    expect(read.problems).toEqual([])
    expect(read.broaderThanAgent(NGINX)).toEqual([])
  })

  it('reports nothing when there is no /etc/sudoers', () => {
    const read = readSudoers({ '/etc/sudoers.d/app': `#101 ${NO_PASSWORD_ALL}\n` })
    expect(read.broaderThanAgent(NGINX)).toEqual([])
    expect(read.problems).toEqual([{ file: '/etc/sudoers', message: expect.stringContaining('not among the files') }])
  })
})
