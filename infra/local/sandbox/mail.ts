/**
 * Just enough RFC 2822 / MIME to read what an app sends through Gmail's
 * `messages.send`: unfolded headers, RFC 2047 encoded words, base64 and
 * quoted-printable bodies, and the first text part of a multipart message.
 */

export interface ParsedMail {
  /** Lower-case header name → decoded value (first occurrence). */
  headers: Record<string, string>;
  contentType: 'text' | 'html';
  body: string;
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function decodeQuotedPrintableBytes(text: string, underscoreIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  const source = underscoreIsSpace ? text.replace(/_/g, ' ') : text.replace(/=\r?\n/g, '');
  for (let i = 0; i < source.length; i += 1) {
    const char = source.charAt(i);
    const hex = source.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`). */
export function decodeEncodedWords(value: string): string {
  const joined = value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1');
  return joined.replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_match, charset: string, encoding: string, text: string) => {
    const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintableBytes(text, true);
    return decodeCharset(bytes, charset.split('*')[0] ?? 'utf-8');
  });
}

function splitHeadAndBody(raw: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(raw);
  if (!match) return { head: raw, body: '' };
  return { head: raw.slice(0, match.index), body: raw.slice(match.index + match[0].length) };
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const match = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!match?.[1]) continue;
    const name = match[1].toLowerCase();
    if (!(name in headers)) headers[name] = decodeEncodedWords((match[2] ?? '').trim());
  }
  return headers;
}

function headerParam(value: string, param: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return match?.[1] ?? match?.[2];
}

function decodeBody(body: string, headers: Record<string, string>): string {
  const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  const charset = headerParam(headers['content-type'] ?? '', 'charset') ?? 'utf-8';
  if (encoding === 'base64') return decodeCharset(Buffer.from(body.replace(/\s+/g, ''), 'base64'), charset);
  if (encoding === 'quoted-printable') return decodeCharset(decodeQuotedPrintableBytes(body, false), charset);
  return body;
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

function textParts(part: Part, depth = 0): Array<{ type: 'text' | 'html'; body: string }> {
  const type = (part.headers['content-type'] ?? 'text/plain').split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
  if (type.startsWith('multipart/') && depth < 5) {
    const boundary = headerParam(part.headers['content-type'] ?? '', 'boundary');
    if (!boundary) return [];
    const delimiter = `--${boundary}`;
    const out: Array<{ type: 'text' | 'html'; body: string }> = [];
    for (const chunk of part.body.split(delimiter).slice(1)) {
      if (chunk.startsWith('--')) break;
      const { head, body } = splitHeadAndBody(chunk.replace(/^\r?\n/, ''));
      out.push(...textParts({ headers: parseHeaders(head), body: body.replace(/\r?\n$/, '') }, depth + 1));
    }
    return out;
  }
  if (type === 'text/plain') return [{ type: 'text', body: decodeBody(part.body, part.headers) }];
  if (type === 'text/html') return [{ type: 'html', body: decodeBody(part.body, part.headers) }];
  return [];
}

export function parseRfc2822(raw: string): ParsedMail {
  const { head, body } = splitHeadAndBody(raw);
  const headers = parseHeaders(head);
  const parts = textParts({ headers, body });
  const chosen = parts.find((part) => part.type === 'text') ?? parts[0];
  return { headers, contentType: chosen?.type ?? 'text', body: chosen?.body ?? body };
}

/** Addresses of an address-list header (`"Doe, Jane" <jane@x.test>, bob@y.test`). */
export function parseAddressList(value: string | undefined): string[] {
  if (!value) return [];
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  for (const char of value) {
    if (char === '"') quoted = !quoted;
    if (!quoted && char === '<') angle += 1;
    if (!quoted && char === '>') angle = Math.max(0, angle - 1);
    if (char === ',' && !quoted && angle === 0) {
      items.push(current);
      current = '';
    } else current += char;
  }
  items.push(current);
  return items
    .map((item) => (/<([^>]*)>/.exec(item)?.[1] ?? item).trim())
    .filter((address) => address !== '');
}
