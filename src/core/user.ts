/** Docker runs a container as root when its user is empty, `root`, `0`, or `0:…` / `root:…`. */
export function isRootUser(user: string | undefined): boolean {
  const name = userPart(user ?? '')
  // Docker reads a numeric user as a number: `00` is uid 0 too.
  return name === '' || name === 'root' || (/^\d+$/.test(name) && Number(name) === 0)
}

/** The user part of `user[:group]`, as sudoers names it: a uid becomes `#uid`. */
export function sudoersUserSpec(user: string): string {
  const name = userPart(user)
  return /^\d+$/.test(name) ? `#${name}` : name
}

/** The user part of `user[:group]`, trimmed. */
function userPart(user: string): string {
  return user.trim().split(':')[0]
}

/**
 * A user in words, for messages and the review: `root`, `uid 101`, `user nginx`; `root (default)` for an empty one
 * when `empty` says so; with its group when it names one (`uid 101, gid 101`).
 */
export function describeUser(user: string, options: { empty?: string; withGroup?: boolean } = {}): string {
  if (user.trim() === '' && options.empty) return options.empty
  const who = userPart(user)
  const main = isRootUser(who) ? 'root' : /^\d+$/.test(who) ? `uid ${who}` : `user ${who}`
  const group = user.includes(':') ? user.slice(user.indexOf(':') + 1).trim() : ''
  if (!options.withGroup || group === '') return main
  return `${main}, ${/^\d+$/.test(group) ? 'gid' : 'group'} ${group}`
}
