// Page-side alerts of the conversations (private ones and rooms): the window title with the unread count
// and the unseen secure-channel requests (blinking while the window is hidden), event sounds made with WebAudio oscillators, desktop
// notifications without content ("New encrypted message"), and the theme class of <html>.
// Nothing here sees message text.

import { t, onLanguageChange } from '../i18n/index.js';
import { unreadTotal } from '../state/channel-store.js';
import { roomUnreadTotal } from '../state/room-store.js';
import { eventTones, unreadTitle } from '../state/preferences.js';

const BLINK_MS = 1000;

export function createChatAlerts({ channelStore, roomStore = null, preferences, titleKey = 'app.title', requests = null }) {
  let audio = null;
  let blink = null;
  let blinkOn = false;
  const phases = new Map();

  const hidden = () => document.visibilityState === 'hidden';
  // Unread lines plus the channel requests not yet seen (app/channel-requests.js): "(1) …" until seen.
  const unread = () => unreadTotal(channelStore.get()) + (roomStore ? roomUnreadTotal(roomStore.get()) : 0)
    + (requests ? requests.get().pending.length : 0);

  function applyTheme() {
    document.documentElement.dataset.theme = preferences.get().theme;
  }

  function play(kind) {
    if (!preferences.get().sound || !eventTones[kind]) return;
    try {
      audio ??= new AudioContext();
      if (audio.state === 'suspended') audio.resume().catch(() => {});
      const start = audio.currentTime + 0.01;
      for (const [frequency, at, duration] of eventTones[kind]) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.type = kind === 'error' ? 'square' : 'sine';
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, start + at);
        gain.gain.exponentialRampToValueAtTime(0.12, start + at + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + at + duration);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(start + at);
        oscillator.stop(start + at + duration + 0.02);
      }
    } catch {
      // No audio in this browser: silence.
    }
  }

  function notify(bodyKey = 'chat.notify.body', tag = 'secms-message') {
    if (!preferences.get().notify || !hidden() || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    try {
      // The body never carries content or sender: the OS notification centre keeps it.
      const notification = new Notification(t(titleKey), { body: t(bodyKey), tag });
      notification.onclick = () => window.focus();
    } catch {
      // Some browsers allow notifications only from a service worker.
    }
  }

  function updateTitle() {
    const count = unread();
    const title = t(titleKey);
    if (hidden() && count > 0) {
      if (!blink) {
        blink = setInterval(() => {
          blinkOn = !blinkOn;
          document.title = blinkOn ? unreadTitle(unread(), t(titleKey)) : t(titleKey);
        }, BLINK_MS);
      }
      blinkOn = true;
      document.title = unreadTitle(count, title);
    } else {
      clearInterval(blink);
      blink = null;
      document.title = unreadTitle(count, title);
    }
  }

  function onChannels(snapshot) {
    for (const channel of snapshot.channels) {
      const before = phases.get(channel.session);
      if (before !== channel.phase) {
        phases.set(channel.session, channel.phase);
        if (channel.phase === 'secure' && before !== 'rekeying') play('join');
        else if (channel.phase === 'ended' && before) play('leave');
        else if (channel.phase === 'compromised' && before) play('error');
      }
    }
    updateTitle();
  }

  document.addEventListener('visibilitychange', () => {
    const { selected, viewing } = channelStore.get();
    if (!hidden() && viewing && selected) channelStore.markRead(selected);
    if (!hidden() && roomStore?.get().viewing && roomStore.get().selected) roomStore.select(roomStore.get().selected);
    updateTitle();
  });
  channelStore.subscribe(onChannels);
  roomStore?.subscribe(updateTitle);
  requests?.subscribe(updateTitle);
  preferences.subscribe(applyTheme);
  onLanguageChange(updateTitle);
  applyTheme();

  return Object.freeze({
    /** From the chats: 'message' (a room line), 'private' (a private line), 'join', 'leave' or 'error'. */
    onChatEvent(kind) {
      play(kind);
      if (kind === 'message' || kind === 'private') notify();
    },
    /** A peer asks for a secure channel: a sound, and a notification (without the name) when hidden. */
    onChannelRequest() {
      play('private');
      notify('announce.notify_request', 'secms-channel-request');
    },
    isVisible: () => !hidden(),
    /** Asks the browser for notification permission; call from a click only. */
    async enableNotifications() {
      if (typeof Notification === 'undefined') return 'unsupported';
      const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
      preferences.setNotify(permission === 'granted');
      return permission;
    },
    play,
  });
}
