// Photos are compressed on the device before they are stored, so a
// check-in syncs over a weak signal: the longest side at most 1600 px,
// JPEG at quality 0.7 (typically 150–400 KB).
import type { NewAttachment } from '../store/store';

const MAX_SIDE = 1600;
const QUALITY = 0.7;

function hex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export async function compressPhoto(file: Blob): Promise<NewAttachment> {
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
  const w = Math.max(1, Math.round(bmp.width * scale));
  const h = Math.max(1, Math.round(bmp.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.drawImage(bmp, 0, 0, w, h);
  bmp.close();
  const blob = await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the photo'))), 'image/jpeg', QUALITY));
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
  return { sha256, mime: 'image/jpeg', bytes };
}
