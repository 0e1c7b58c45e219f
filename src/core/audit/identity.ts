import type { SudoUser } from './sudoers.js'

/**
 * Who a container's user is, as sudo matches it: the name and uid from the image's /etc/passwd, and every group it is
 * in — its primary group and those /etc/group lists it in — by name and gid. `user` is the task's or image's user
 * (`name`, `uid`, either with `:group`).
 */
export function sudoIdentity(user: string, passwd = '', group = ''): { user: SudoUser; groups: string[] } {
  const [who, explicitGroup] = user.trim().split(':')
  const users = rows(passwd)
  const entry = users.find(fields => (/^\d+$/.test(who) ? fields[2] === who : fields[0] === who))
  const name = entry?.[0] ?? (/^\d+$/.test(who) ? undefined : who)
  const uid = entry ? Number(entry[2]) : /^\d+$/.test(who) ? Number(who) : undefined
  const primary = explicitGroup ?? entry?.[3]
  const groups = new Set<string>()
  for (const fields of rows(group)) {
    const [groupName, , gid, members = ''] = fields
    const member = name !== undefined && members.split(',').includes(name)
    if (member || (primary !== undefined && (primary === gid || primary === groupName))) {
      groups.add(groupName)
      groups.add(gid)
    }
  }
  if (primary !== undefined) groups.add(primary)
  return { user: { ...(name !== undefined ? { name } : {}), ...(uid !== undefined ? { uid } : {}) }, groups: [...groups].filter(Boolean) }
}

/** The colon-separated fields of each line that is not blank or a comment. */
function rows(text: string): string[][] {
  return text
    .split('\n')
    .map(line => line.trim())
    .filter(line => line && !line.startsWith('#'))
    .map(line => line.split(':'))
}
