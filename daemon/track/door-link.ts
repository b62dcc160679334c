import type { StereoView } from '../liveness/stereo.js';
import type { PersonRef } from './events.js';

/**
 * A camera's track as a door sees it: who it is so far (to pair it with the same person in the
 * door's other cameras, never with someone else), and where the door's answer goes.
 */
export interface DoorSide {
  readonly camera: string;
  readonly id: number;
  /** The person the track was recognised as, or null while it is not. */
  readonly identity: PersonRef | null;
  /** The track's fused embedding, or undefined before its first identity-grade frame. */
  readonly fused: Float32Array | undefined;
  /** Its face region has looked the same on every detection for a while: a frozen stream or picture pairs with nothing. */
  readonly frozen: boolean;
  /** The door's one value standing for this face's pairs (parallax, in face heights; stereo.ts). */
  stereoSeen(parallax: number): void;
}

/** One look at a face that its track trusts, as a door pairs it. */
export interface DoorLook {
  /**
   * When the frame was taken, on the daemon's monotonic clock (ms): `Frame.capturedMs`, when it
   * came out of FFmpeg less its camera's latency measured against the camera's own clock, or when
   * it came out where that is not measured (docs/camera.md, Capture times).
   */
  capturedMs: number;
  view: StereoView;
}

/** Where a camera's tracker hands each trusted look of each of its tracks, for its door to pair. */
export interface DoorSink {
  /** The door's name: every record of the camera's tracks names it. */
  readonly door: string;
  look(side: DoorSide, look: DoorLook): void;
}
