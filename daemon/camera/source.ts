/** What kind of input a camera URL names (daemon/base/log.ts redactText shows it without its credentials). */
export type SourceKind = 'rtsp' | 'file' | 'stream';

export function sourceKind(url: string): SourceKind {
  if (/^rtsps?:\/\//i.test(url)) return 'rtsp';
  if (/^file:\/\//i.test(url) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return 'file';
  return 'stream'; // http(s), rtmp, srt...: handed to FFmpeg as they are
}

/** A file URL or path as FFmpeg wants it. */
export function filePath(url: string): string {
  return /^file:\/\//i.test(url) ? decodeURIComponent(url.replace(/^file:\/\//i, '')) : url;
}
