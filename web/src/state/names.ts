// Names of accounts this tab has seen anywhere (feed, comments, room members, follow lists),
// by id, kept for the browser session. Notifications carry only the actor's id, so this is
// how "Someone" becomes "bob".
const KEY = 'veza-names';
const MAX = 2000;
const names = new Map<string, string>(load());

function load(): [string, string][] {
  try {
    return Object.entries(JSON.parse(globalThis.sessionStorage?.getItem(KEY) ?? '{}'));
  } catch {
    return [];
  }
}

export function rememberUsers(users: { id?: string; user_id?: string; username: string; display_name?: string }[]): void {
  let changed = false;
  for (const u of users) {
    const id = u.id ?? u.user_id;
    const name = u.display_name || u.username;
    if (id && name && names.get(id) !== name) {
      names.set(id, name);
      changed = true;
    }
  }
  if (!changed) return;
  while (names.size > MAX) names.delete(names.keys().next().value as string);
  try {
    globalThis.sessionStorage?.setItem(KEY, JSON.stringify(Object.fromEntries(names)));
  } catch {
    /* storage full or blocked: the names still live in memory */
  }
}

export function knownName(id: string | null | undefined): string | undefined {
  return id ? names.get(id) : undefined;
}

export function knownNames(): Record<string, string> {
  return Object.fromEntries(names);
}
