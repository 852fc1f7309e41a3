/** The demo's user directory. In your app this is your users table. */
export interface User {
  id: string;
  name: string;
  email: string;
}

export interface Users {
  list(): User[];
  get(id: string): User | undefined;
  add(input: { name: string; email: string }): User;
}

export function createUsers(seed: User[] = DEMO_USERS): Users {
  const byId = new Map(seed.map((u) => [u.id, { ...u }]));
  return {
    list: () => [...byId.values()],
    get: (id) => byId.get(id),
    add({ name, email }) {
      let id = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'user';
      for (let n = 2; byId.has(id); n++) id = `${id.replace(/-\d+$/, '')}-${n}`;
      const user = { id, name, email };
      byId.set(id, user);
      return user;
    },
  };
}

export const DEMO_USERS: User[] = [
  { id: 'alice', name: 'Alice Martin', email: 'alice@example.com' },
  { id: 'bob', name: 'Bob Stone', email: 'bob@example.com' },
];
