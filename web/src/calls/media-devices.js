// Local media: the microphone and camera (getUserMedia), the screen (getDisplayMedia), the
// device lists, and the microphone level meter. Page runtime; every browser object comes from
// the injected `env` so the call logic is tested in Node with fakes.

const LEVEL_INTERVAL_MS = 100;   // 10 Hz: enough for a meter, cheap on the main thread

function constraint(deviceId) {
  return deviceId ? { deviceId: { exact: deviceId } } : true;
}

/** env: { mediaDevices, AudioContext?, setInterval, clearInterval }. */
export function createMediaDevices({ env }) {
  const { mediaDevices } = env;

  /** One track of `kind` ('audio'|'video') from the chosen device (or the default one). */
  async function track(kind, deviceId = null) {
    if (!mediaDevices?.getUserMedia) throw Object.assign(new Error('no getUserMedia'), { code: 'no_media' });
    const stream = await mediaDevices.getUserMedia({ [kind]: constraint(deviceId) });
    const [found] = kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
    if (!found) throw Object.assign(new Error(`no ${kind} track`), { code: 'no_media' });
    return found;
  }

  /** The screen (or a window) as one video track; null when the user cancelled. */
  async function screenTrack() {
    if (!mediaDevices?.getDisplayMedia) return null;
    try {
      const stream = await mediaDevices.getDisplayMedia({ video: true, audio: false });
      return stream.getVideoTracks()[0] ?? null;
    } catch {
      return null;
    }
  }

  /** {audioinput, videoinput, audiooutput}: [{deviceId, label}] (labels are empty before a permission). */
  async function list() {
    const lists = { audioinput: [], videoinput: [], audiooutput: [] };
    if (!mediaDevices?.enumerateDevices) return lists;
    for (const device of await mediaDevices.enumerateDevices()) {
      if (Object.hasOwn(lists, device.kind)) lists[device.kind].push({ deviceId: device.deviceId, label: device.label });
    }
    return lists;
  }

  /**
   * Calls onLevel(0..1) at 10 Hz with the RMS level of the audio track; → stop(). Without Web
   * Audio it reports nothing (the meter stays at 0).
   */
  function meter(audioTrack, onLevel) {
    if (!audioTrack || typeof env.AudioContext !== 'function') return () => {};
    let context;
    try {
      context = new env.AudioContext();
      // Created without a user gesture (an incoming call), the context may start suspended.
      Promise.resolve(context.resume?.()).catch(() => {});
      const source = context.createMediaStreamSource(new env.MediaStream([audioTrack]));
      const analyser = context.createAnalyser();
      analyser.fftSize = 512;
      source.connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const timer = env.setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const sample of samples) sum += sample * sample;
        // RMS scaled so speech reaches the upper half of the meter.
        onLevel(Math.min(1, Math.sqrt(sum / samples.length) * 4));
      }, LEVEL_INTERVAL_MS);
      return () => {
        env.clearInterval(timer);
        context.close().catch(() => {});
      };
    } catch {
      context?.close?.().catch?.(() => {});
      return () => {};
    }
  }

  return Object.freeze({ track, screenTrack, list, meter });
}
