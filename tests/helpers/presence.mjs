// Who a client believes is online after a run of server messages, replayed as the web client's
// presence store does (docs/api.md): a full {type:'presence', online:[…]} list, then
// presence_joined / presence_changed {user} and presence_left {user:{userid}} deltas.
// Returns the usernames, sorted.
export function presenceNames(messages) {
  const online = new Map();
  for (const m of messages) {
    if (m.type === 'presence') {
      online.clear();
      for (const u of m.online) online.set(u.userid, u);
    } else if (m.type === 'presence_joined' || m.type === 'presence_changed') {
      online.set(m.user.userid, m.user);
    } else if (m.type === 'presence_left') {
      online.delete(m.user.userid);
    }
  }
  return [...online.values()].map((u) => u.username).sort();
}

export const isPresenceMessage = (m) => typeof m?.type === 'string' && m.type.startsWith('presence');
