// Room membership changes (docs/api.md "Chat rooms"): the server sends the whole member list only
// to the user who joined; every other member gets the change alone (room_member_joined,
// room_member_left), so a join or leave costs it one small message per connection. This turns a
// change into the same room view (room_members) the rest of the page applies, on the room's
// current list.

import { isUsername } from '../chat/commands.js';

const changeTypes = new Set(['room_member_joined', 'room_member_left']);
const departures = new Set(['left', 'removed', 'kicked']);

/** Whether a server message is a membership change this module turns into a view. */
export function isMembershipChange(message) {
  return changeTypes.has(message?.type);
}

/**
 * The room view after a change, shaped as the server's room_members message, from `entry` (the
 * room as the store holds it: { members, moderators, owner, name, public }). Null when the message
 * is malformed. Without an entry (a room this page is not in) the view holds the user's change
 * alone: it matters only when the change is this user's own departure.
 */
export function viewFromChange(entry, message) {
  if (!isMembershipChange(message)) return null;
  const { room, user } = message;
  // `user` becomes text on the page and a member handed to the Worker: a username or nothing.
  if (typeof room !== 'string' || !isUsername(user)) return null;
  const joined = message.type === 'room_member_joined';
  const event = joined ? 'joined' : message.event;
  if (!joined && !departures.has(event)) return null;
  const members = new Set(Array.isArray(entry?.members) ? entry.members : []);
  const moderators = new Set(Array.isArray(entry?.moderators) ? entry.moderators : []);
  if (joined) {
    members.add(user);
    if (message.moderator === true) moderators.add(user);
    else moderators.delete(user);
  } else {
    members.delete(user);
    moderators.delete(user);
  }
  const view = {
    type: 'room_members',
    room,
    public: message.public === true,
    members: [...members].sort(),
    moderators: [...moderators].sort(),
    event,
    user,
  };
  const name = typeof message.name === 'string' ? message.name : entry?.name;
  if (typeof name === 'string') view.name = name;
  if (typeof entry?.owner === 'string') view.owner = entry.owner;
  return view;
}
