// Images the page fetches with the access token (faces, proofs, frames): object URLs, revoked when
// the image leaves the page, never cached by it.
import { useEffect, useState } from 'preact/hooks';
import { sayFailure } from '../dom.js';

/** An object URL shown as a thumbnail; revoked when it is unmounted. */
export function BlobThumb({ url, alt }: { url: string; alt: string }) {
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return <img class="thumb" src={url} alt={alt} />;
}

/**
 * A button that becomes the image it names when pressed: a proof or a face crop, opened by the
 * daemon for this one request (audited).
 */
export function OnDemandThumb({ label, alt, load }: { label: string; alt: string; load: () => Promise<string> }) {
  const [url, setUrl] = useState<string | null>(null);
  if (url) return <BlobThumb url={url} alt={alt} />;
  const open = () => load().then(setUrl, sayFailure);
  return (
    <button type="button" onClick={open}>
      {label}
    </button>
  );
}
