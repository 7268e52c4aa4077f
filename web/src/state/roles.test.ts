import { describe, expect, it } from 'vitest';
import type { ChatMessage, User } from '../api/types';
import { senderLabel, typingLine } from '../pages/Chat';
import { hasRole } from './auth';

const user = (role: User['role']): User => ({ id: 'me', username: 'me', display_name: '', role }) as User;

describe('roles and names', () => {
  it('ranks roles: the admin area opens from moderator up', () => {
    expect(hasRole(null, 'moderator')).toBe(false);
    expect(hasRole(user('user'), 'moderator')).toBe(false);
    expect(hasRole(user('moderator'), 'moderator')).toBe(true);
    expect(hasRole(user('moderator'), 'admin')).toBe(false);
    expect(hasRole(user('super_admin'), 'admin')).toBe(true);
  });

  it('names chat senders: me, a name the server sent, else a short id', () => {
    const m = { sender: '01a2-xyz-4eb4b6' } as ChatMessage;
    expect(senderLabel({ ...m, sender: 'me' }, user('user'))).toBe('me');
    expect(senderLabel({ ...m, sender_username: 'bob' }, user('user'))).toBe('bob');
    expect(senderLabel(m, null)).toBe('user-4eb4b6');
  });
});

describe('chat names and typing', () => {
  it('names senders from the member list', () => {
    const msg = { sender: 'u2' } as ChatMessage;
    expect(senderLabel(msg, user('user'), { u2: 'bob' })).toBe('bob');
  });
  it('says who is typing, without oneself or stale entries', () => {
    const names = { a: 'alice', b: 'bob', c: 'carol' };
    expect(typingLine({ a: 200 }, 100, names)).toBe('alice is typing…');
    expect(typingLine({ a: 200, b: 50 }, 100, names)).toBe('alice is typing…');
    expect(typingLine({ a: 200, me: 200 }, 100, names, 'me')).toBe('alice is typing…');
    expect(typingLine({ a: 200, b: 200 }, 100, names)).toBe('alice and bob are typing…');
    expect(typingLine({ a: 200, b: 200, c: 200 }, 100, names)).toBe('Several people are typing…');
    expect(typingLine(undefined, 100, names)).toBe('');
  });
});
