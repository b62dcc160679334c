/** What kind of input a camera URL names, and how to show it without its credentials. */
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

/**
 * Every `scheme://user:pass@` in a text becomes `scheme://***@`: FFmpeg prints the URL it was given,
 * credentials included, in its errors. (daemon/ops/log.ts redactUrl handles one URL at the start.)
 */
export function redactCredentials(text: string): string {
  // Greedy up to the last @ before the host: passwords with a raw '@' are common.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s]*@/gi, '$1***@');
}
