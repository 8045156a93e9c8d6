// The local side of one call: microphone, camera and screen tracks, mute, camera on/off, hold,
// screen share, device switch and the level meter. Tracks are disabled rather than removed for
// mute, camera off and hold, so encrypted frames keep flowing (silence and black frames) and the
// peer's SFrame receiver stays active; the peer learns the state from `state`/`hold` signals.
// DTMF tones (RFC 4733) go out through the audio sender's RTCDTMFSender.

// What a page may ask for: the RFC 4733 events 0-9, A-D, # and *, and ',' (a 2 s pause,
// W3C WebRTC §7.2 insertDTMF).
const dtmfPattern = /^[0-9A-Da-d#*,]{1,64}$/;
const dtmfSentMax = 64;

/** The audio sender's RTCDTMFSender of a call session (senders of other kinds have none). */
const dtmfSenderOf = (session) => session?.pc?.getSenders?.().find((sender) => sender.dtmf)?.dtmf ?? null;

/**
 * Options: { call: {id}, devices (media-devices.js), store (call-store), env: {MediaStream},
 *   signal(fields) (to the peer, inside the channel), isCurrent() → whether the call is still on }.
 */
export function createCallControls({ call, devices, store, env, signal, isCurrent }) {
  let audio = null;
  let camera = null;
  let screen = null;
  let muted = false;
  let cameraOn = false;
  let heldLocal = false;
  let heldRemote = false;
  let session = null;
  let stopMeter = () => {};
  let dtmf = null;        // the RTCDTMFSender whose tonechange events are counted
  let dtmfSent = '';
  let initial = [];
  let resolveTracks;
  let rejectTracks;
  const ready = new Promise((resolve, reject) => {
    resolveTracks = resolve;
    rejectTracks = reject;
  });
  ready.catch(() => {});   // the acquire() caller handles the failure

  const update = (changes) => store.update(call.id, changes);
  const selected = () => store.get().devices.selected;
  const videoOut = () => screen ?? camera;

  function applyEnabled() {
    const held = heldLocal || heldRemote;
    if (audio) audio.enabled = !muted && !held;
    if (camera) camera.enabled = cameraOn && !held;
    if (screen) screen.enabled = !held;
    session?.setRemotePlayback(!held);
  }

  function publish() {
    const tracks = [audio, videoOut()].filter(Boolean);
    update({
      localStream: tracks.length > 0 ? new env.MediaStream(tracks) : null,
      muted, cameraOn: cameraOn && camera !== null, screenSharing: screen !== null,
      held: { local: heldLocal, remote: heldRemote },
    });
  }

  function sendState() {
    if (session) signal({ kind: 'state', camera: cameraOn && camera !== null, muted, screen: screen !== null });
  }

  // "Sent" means played out: a tone counts when the RTCDTMFSender starts sending it in the RTP
  // stream (its tonechange event), not when it is queued — tones still queued when the call ends
  // never reach the peer. The last event of a run has tone '' (the buffer is empty); ',' is a pause.
  function onToneChange(event) {
    const tone = typeof event?.tone === 'string' ? event.tone : '';
    if (!isCurrent() || tone === '' || tone === ',') return;
    dtmfSent = (dtmfSent + tone).slice(-dtmfSentMax);
    update({ dtmfSent });
  }

  function forgetDtmf() {
    dtmf?.removeEventListener?.('tonechange', onToneChange);
    dtmf = null;
  }

  function startMeter() {
    stopMeter();
    stopMeter = devices.meter(audio, (level) => isCurrent() && update({ level }));
  }

  /** Opens the microphone (and the camera for video); the tracks go to the session once it exists. */
  async function acquire(media) {
    try {
      const next = await devices.track('audio', selected().audioinput);
      if (!isCurrent()) {
        next.stop();
        throw Object.assign(new Error('call over'), { code: 'ended' });
      }
      audio = next;
      if (media === 'video') {
        try {
          camera = await devices.track('video', selected().videoinput);
          cameraOn = true;
        } catch {
          camera = null;   // no camera: the call goes on with audio, the UI shows the camera off
          cameraOn = false;
        }
        if (!isCurrent()) {
          camera?.stop();
          audio.stop();
          throw Object.assign(new Error('call over'), { code: 'ended' });
        }
      }
    } catch (error) {
      rejectTracks(error);
      throw error;
    }
    applyEnabled();
    publish();
    startMeter();
    initial = [audio, camera].filter(Boolean);
    resolveTracks(initial);
  }

  /** The session now exists: tracks that changed since acquire() are sent in place of the first ones. */
  function attach(next) {
    session = next;
    applyEnabled();
    ready.then(() => {
      if (!isCurrent() || session !== next) return;
      if (audio && !initial.includes(audio)) next.replaceTrack('audio', audio).catch(() => {});
      const video = videoOut();
      if (video && !initial.includes(video)) next.replaceTrack('video', video).catch(() => {});
      sendState();
    }, () => {});   // no microphone: acquire()'s caller ends the call
  }

  async function stopShare() {
    if (!screen) return;
    const old = screen;
    screen = null;
    old.stop();
    await session?.replaceTrack('video', camera);
    applyEnabled();
    publish();
    sendState();
  }

  return Object.freeze({
    acquire,
    tracksReady: () => ready,
    attach,
    toggleMute() {
      muted = !muted;
      applyEnabled();
      publish();
      sendState();
    },
    async toggleCamera() {
      if (cameraOn && camera) {
        cameraOn = false;
      } else {
        if (!camera) {
          let next;
          try {
            next = await devices.track('video', selected().videoinput);
          } catch {
            return;
          }
          if (!isCurrent()) {
            next.stop();
            return;
          }
          camera = next;
          // Video added to an audio call: a new sender, hence a renegotiation.
          if (!screen && session) await session.replaceTrack('video', camera);
        }
        cameraOn = true;
      }
      applyEnabled();
      publish();
      sendState();
    },
    toggleHold() {
      heldLocal = !heldLocal;
      signal({ kind: 'hold', on: heldLocal });
      applyEnabled();
      publish();
    },
    remoteHold(on) {
      heldRemote = Boolean(on);
      applyEnabled();
      publish();
    },
    async toggleScreenShare() {
      if (screen) {
        await stopShare();
        return;
      }
      const track = await devices.screenTrack();
      if (!track) return;
      if (!isCurrent() || !session) {
        track.stop();
        return;
      }
      screen = track;
      // The browser's own "stop sharing" button ends the track: back to the camera.
      track.addEventListener?.('ended', () => {
        if (screen === track) stopShare().catch(() => {});
      });
      await session.replaceTrack('video', track);
      applyEnabled();
      publish();
      sendState();
    },
    /**
     * Queues DTMF tones behind those still waiting (100 ms each, 70 ms apart); → whether they
     * were queued. The store's dtmfSent grows as each one is played out (onToneChange).
     */
    sendDtmf(tones) {
      if (typeof tones !== 'string' || !dtmfPattern.test(tones)) return false;
      const sender = dtmfSenderOf(session);
      if (!sender || sender.canInsertDTMF === false) return false;
      if (sender !== dtmf) {
        forgetDtmf();
        dtmf = sender;
        dtmf.addEventListener('tonechange', onToneChange);
      }
      sender.insertDTMF(sender.toneBuffer + tones.toUpperCase(), 100, 70);
      return true;
    },
    /** A microphone or camera chosen in the device list: the new track replaces the old one in place. */
    async switchDevice(kind, deviceId) {
      const audioKind = kind === 'audioinput';
      const old = audioKind ? audio : camera;
      if (!old) return;
      const next = await devices.track(audioKind ? 'audio' : 'video', deviceId);
      if (!isCurrent()) {
        next.stop();
        return;
      }
      if (audioKind) audio = next;
      else camera = next;
      applyEnabled();
      if (session && (audioKind || !screen)) await session.replaceTrack(audioKind ? 'audio' : 'video', next);
      old.stop();
      if (audioKind) startMeter();
      publish();
    },
    stop() {
      stopMeter();
      forgetDtmf();
      for (const track of [audio, camera, screen]) track?.stop();
      audio = camera = screen = null;
      session = null;
    },
  });
}
