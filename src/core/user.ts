/** Docker runs a container as root when its user is empty, `root`, `0`, or `0:…` / `root:…`. */
export function isRootUser(user: string | undefined): boolean {
  const name = (user ?? '').trim().split(':')[0]
  return name === '' || name === 'root' || name === '0'
}

/** The user part of `user[:group]`, as sudoers names it: a uid becomes `#uid`. */
export function sudoersUserSpec(user: string): string {
  const name = user.trim().split(':')[0]
  return /^\d+$/.test(name) ? `#${name}` : name
}
