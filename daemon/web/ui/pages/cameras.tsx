// The cameras page: each camera's health, and every camera's live picture at once.
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { $, message, say } from '../dom.js';
import { clear, draw } from '../draw.js';
import { api, blobUrl } from '../session.js';
import type { CameraHealth } from '../types.js';

/** How a quiet scene is watched (a camera's idle_keyframes_after_s, sub_url). */
const QUIET_SAID: Readonly<Record<CameraHealth['decoding'], string>> = {
  all: '',
  keyframes: ' (key frames only: the scene is quiet)',
  sub_stream: ' (on the sub stream: the scene is quiet)',
};

export async function showCameras(): Promise<() => void> {
  const cams = await api<CameraHealth[]>('/api/cameras');
  draw(
    $('camera-rows'),
    cams.map((c) => (
      <tr key={c.camera}>
        <th scope="row">{c.camera}</th>
        <td>{c.state}</td>
        <td>{`${c.fps_in.toFixed(1)} of ${c.fps_asked} read${c.fps_source !== null ? `, the camera sends ${c.fps_source}` : ''}${QUIET_SAID[c.decoding]}, ${c.fps_processed.toFixed(1)} processed`}</td>
        <td>{String(c.frames_skipped)}</td>
        <td>{c.attention ? `${c.attention.message}. Next: ${c.attention.hint}` : 'nothing'}</td>
        <td>{c.last_error?.message ?? ''}</td>
      </tr>
    )),
  );
  if (cams.length === 0) say('No cameras are configured.');
  draw(
    $('live-grid'),
    cams.map((c) => <LiveTile key={c.camera} camera={c.camera} />),
  );
  // Leaving the page stops every picture's fetches.
  return () => clear($('live-grid'));
}

/**
 * One camera's picture: the daemon's newest frame with its boxes and labels, fetched with the token
 * once a second (the daemon encodes a camera's frame once for all viewers); a fetch still under way
 * is not doubled.
 */
function LiveTile({ camera }: { camera: string }) {
  const [src, setSrc] = useState<string | undefined>(undefined);
  const [caption, setCaption] = useState(camera);
  // Started as soon as the tile is in the page, not after the next paint as useEffect would: the
  // first picture is what the page is opened for.
  useLayoutEffect(() => {
    let busy = false;
    let gone = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        const url = await blobUrl(`/api/cameras/${encodeURIComponent(camera)}/frame.jpg`);
        if (gone) return URL.revokeObjectURL(url);
        setSrc(url);
        setCaption(camera);
      } catch (e) {
        if (!gone) setCaption(`${camera}: ${message(e)}`);
      } finally {
        busy = false;
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), 1000);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, [camera]);
  // The frame shown before is let go once the next one is on the page.
  useEffect(() => () => src && URL.revokeObjectURL(src), [src]);
  return (
    <figure data-camera={camera}>
      <img src={src} alt={`Live view of camera ${camera} with the faces the daemon tracks`} />
      <figcaption>{caption}</figcaption>
    </figure>
  );
}
