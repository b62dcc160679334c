// Photos picked in the page, read for the API (base64 in JSON).

/** The server's limit on one photo (service/person-input.ts), said before the upload. */
export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;
/** Photos taken from one pick. */
export const MAX_PHOTOS = 5;

export const picked = (id: string): File[] => [...((document.getElementById(id) as HTMLInputElement | null)?.files ?? [])].slice(0, MAX_PHOTOS);

export function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error ?? new Error(`${file.name} could not be read`));
    r.readAsDataURL(file);
  });
}
