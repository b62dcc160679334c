// The paced tier's marker. A test file that imports this module (`import '../support/paced-tier.js';`)
// states that its tests are paced by real time and wait far more than they compute: a camera that
// stalls and comes back, a broker down for seconds, a bridge cut, cameras streaming at their rate
// for a minute, an install in a fresh root, a release unpacked and upgraded. Alone, such a file
// keeps well under one of the 2-core machine's cores busy (measured with /usr/bin/time: 0.2–0.7).
// `npm test` runs these files one at a time beside the files that run one at a time (the last
// tier), so that their waits overlap that tier's work instead of adding to it. So every file of
// both shares the CPU with one other, a file that computes little: what they assert must hold
// with a core or so to themselves, as it does on a box that also decodes its cameras.
export {};
