/**
 * Turns request content (message text, images, inline files) into the plain text the extractor
 * reads. Images carry their "OCR" text in metadata — a PNG `tEXt`/`iTXt`/`zTXt` chunk keyed
 * `Description`, or a JPEG comment — so fixtures stay readable without a vision model.
 */
import { inflateSync } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DESCRIPTION_KEYWORD = 'Description';

function pngDescription(bytes: Buffer): string | undefined {
  let offset = PNG_SIGNATURE.length;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) return undefined;
    const data = bytes.subarray(dataStart, dataEnd);
    const keywordEnd = data.indexOf(0);
    const keyword = keywordEnd < 0 ? '' : data.toString('latin1', 0, keywordEnd);
    if (keyword === DESCRIPTION_KEYWORD) {
      if (type === 'tEXt') return data.toString('latin1', keywordEnd + 1);
      if (type === 'zTXt') return inflateSync(data.subarray(keywordEnd + 2)).toString('latin1');
      if (type === 'iTXt') {
        const compressed = data[keywordEnd + 1] === 1;
        const languageEnd = data.indexOf(0, keywordEnd + 3);
        const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
        if (translatedEnd < 0) return undefined;
        const text = data.subarray(translatedEnd + 1);
        return (compressed ? inflateSync(text) : text).toString('utf8');
      }
    }
    if (type === 'IEND') return undefined;
    offset = dataEnd + 4;
  }
  return undefined;
}

function jpegComment(bytes: Buffer): string | undefined {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1];
    // Start of scan: entropy-coded data follows, no more metadata segments.
    if (marker === 0xda || marker === undefined) return undefined;
    const length = bytes.readUInt16BE(offset + 2);
    if (marker === 0xfe) return bytes.toString('utf8', offset + 4, offset + 2 + length);
    offset += 2 + length;
  }
  return undefined;
}

/**
 * The text an image "shows": a PNG `Description` text chunk or a JPEG comment segment; empty for
 * anything else, as if the picture held no legible text.
 */
export function imageText(bytes: Buffer): string {
  try {
    if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return pngDescription(bytes) ?? '';
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return jpegComment(bytes) ?? '';
  } catch {
    // A corrupt image reads as blank, like an unreadable scan.
  }
  return '';
}

/** Decodes a `data:` URL; remote URLs cannot be fetched offline and read as nothing. */
export function decodeDataUrl(url: string): { mediaType: string; bytes: Buffer } | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (match === null) return undefined;
  const mediaType = match[1] === '' || match[1] === undefined ? 'text/plain' : match[1];
  const payload = match[3] ?? '';
  const base64 = (match[2] ?? '').split(';').includes('base64');
  const bytes = base64 ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload));
  return { mediaType, bytes };
}

/** Text of an inline file: text files read verbatim, images through their metadata. */
export function fileText(mediaType: string, bytes: Buffer): string {
  if (mediaType.startsWith('text/') || mediaType === 'application/json') {
    return bytes.toString('utf8');
  }
  if (mediaType.startsWith('image/')) return imageText(bytes);
  return '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dataUrlText(url: unknown): string {
  if (typeof url !== 'string') return '';
  const decoded = decodeDataUrl(url);
  return decoded === undefined ? '' : fileText(decoded.mediaType, decoded.bytes);
}

/** What one content part contributes to the prompt. */
export interface PartText {
  readonly text: string;
  /** Whether the part was an image (images are billed at a flat token rate). */
  readonly image: boolean;
}

/**
 * Reads one content part of any of the three APIs: OpenAI chat (`text`, `image_url`, `file`),
 * Responses (`input_text`, `input_image`, `input_file`) and Anthropic (`text`, `image`,
 * `document`).
 */
export function partText(part: unknown): PartText {
  if (typeof part === 'string') return { text: part, image: false };
  if (!isRecord(part)) return { text: '', image: false };
  switch (part.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return { text: typeof part.text === 'string' ? part.text : '', image: false };
    case 'image_url': {
      const image = part.image_url;
      const url = isRecord(image) ? image.url : image;
      return { text: dataUrlText(url), image: true };
    }
    case 'input_image':
      return { text: dataUrlText(part.image_url), image: true };
    case 'file': {
      const file = isRecord(part.file) ? part.file : {};
      return { text: dataUrlText(file.file_data), image: false };
    }
    case 'input_file':
      return { text: dataUrlText(part.file_data), image: false };
    case 'image':
    case 'document': {
      const source = isRecord(part.source) ? part.source : {};
      if (source.type === 'text' && typeof source.data === 'string') {
        return { text: source.data, image: false };
      }
      if (source.type === 'base64' && typeof source.data === 'string') {
        const mediaType = typeof source.media_type === 'string' ? source.media_type : '';
        return {
          text: fileText(mediaType, Buffer.from(source.data, 'base64')),
          image: part.type === 'image',
        };
      }
      return { text: '', image: part.type === 'image' };
    }
    default:
      return { text: '', image: false };
  }
}

/** What a message's `content` holds, for extraction and for token counting. */
export interface ContentText {
  /** Everything readable, text parts and image text, joined by newlines: the document. */
  readonly text: string;
  /** Only the text the caller typed; image text is billed as images, not as words. */
  readonly promptText: string;
  readonly images: number;
}

/** Reads a message's `content`: a string, or a list of parts. */
export function contentText(content: unknown): ContentText {
  if (typeof content === 'string') return { text: content, promptText: content, images: 0 };
  if (!Array.isArray(content)) return { text: '', promptText: '', images: 0 };
  const texts: string[] = [];
  const typed: string[] = [];
  let images = 0;
  for (const part of content) {
    const read = partText(part);
    if (read.image) images += 1;
    if (read.text === '') continue;
    texts.push(read.text);
    if (!read.image) typed.push(read.text);
  }
  return { text: texts.join('\n'), promptText: typed.join('\n'), images };
}
