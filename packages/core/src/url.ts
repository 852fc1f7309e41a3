import { invalid } from './errors';

const RELATIVE_BASE = 'http://relative.invalid';
const MAX_URL_LENGTH = 8192;

/** The canonical form of a URL, as bindings store it and requests are compared by it. */
export interface CanonicalUrl {
  /** `scheme://host[:port]`, absent for a path-only URL. Default ports are dropped. */
  origin?: string;
  /** Path and query: `/files?id=7&tags%5B%5D=a`. Pairs are decoded, sorted and re-encoded. */
  canonical: string;
  /** Values of the token parameter found in the query (0, 1, or more: the caller decides). */
  tokens: string[];
}

/** Percent-decodes, leaving malformed sequences (`%zz`, a lone `%C3`) as they were. */
function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run.toUpperCase();
      }
    });
  }
}

const encode = encodeURIComponent;

/**
 * Quotes a URL for an error message or a log line without its query (which may carry a token)
 * or fragment: `https://x.test/files?…`.
 */
function describeUrl(url: string): string {
  const cut = url.search(/[?#]/);
  const head = cut === -1 ? url : url.slice(0, cut);
  return JSON.stringify(head.length > 100 ? `${head.slice(0, 100)}…` : cut === -1 ? head : `${head}?…`);
}

/** @internal The part of a URL string before its query or fragment, without scheme and authority. */
function rawPathOf(url: string, absolute: boolean): string {
  let rest = url;
  if (absolute) {
    rest = rest.slice(rest.indexOf(':') + 1);
    // the authority ends at the first '/', '\\', '?' or '#' (WHATWG also splits on '\\' for http)
    if (/^[/\\]{2}/.test(rest)) {
      const end = rest.slice(2).search(/[/\\?#]/);
      rest = end === -1 ? '' : rest.slice(2 + end);
    }
  }
  const cut = rest.search(/[?#]/);
  return cut === -1 ? rest : rest.slice(0, cut);
}

const DOT = /^\.\.?$/;

/**
 * Why a raw path cannot be compared as a server routes it, or undefined when it can. A path
 * holding a dot segment (`.`, `..`, in any case or percent-encoding, also inside a segment with
 * an encoded `/`) or a backslash (`\\`, `%5C`) would be resolved differently by a WHATWG
 * parser, a router and a file system, so it matches no binding: a link for `/files` must never
 * be opened on `/admin/../files`, which a raw-path router sends to the admin handler.
 */
/**
 * @internal The path of a request target as the server routes it (raw, only the hex case of
 * escapes made one), and why it matches no binding or session when it holds a dot segment or a
 * backslash. For share-link sessions, which compare paths outside `canonicalize`.
 */
export function routedPath(url: string): { path: string; unsafe?: string } {
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(url);
  const raw = rawPathOf(url, absolute) || '/';
  const unsafe = unsafePathReason(raw);
  const path = raw.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());
  return unsafe ? { path, unsafe } : { path };
}

function unsafePathReason(rawPath: string): string | undefined {
  if (rawPath.includes('\\') || /%5c/i.test(rawPath)) return 'the path holds a backslash';
  for (const segment of rawPath.split('/')) {
    let s = segment;
    // decode up to three times: `%252e` is `%2e` to a router that decodes once more
    for (let i = 0; i < 4; i++) {
      if (DOT.test(s) || s.split(/[/\\]/).some((part) => DOT.test(part))) return 'the path holds a dot segment (. or ..)';
      if (!s.includes('%')) break;
      const next = safeDecode(s);
      if (next === s) break;
      s = next;
    }
  }
  return undefined;
}

/** @internal {@link canonicalizeUrl}'s work, with an unsafe path reported instead of thrown. */
export function canonicalize(url: string, options: { tokenParam: string; exclude?: ReadonlySet<string> }): CanonicalUrl & { unsafe?: string } {
  if (typeof url !== 'string' || url.length === 0) throw invalid('url must be a non-empty string');
  if (url.length > MAX_URL_LENGTH) throw invalid(`url is longer than ${MAX_URL_LENGTH} characters`);
  // a WHATWG parser silently drops tabs and line breaks: refuse what would be read two ways
  if (/[\x00-\x1F\x7F]/.test(url)) throw invalid(`url holds a control character: ${describeUrl(url.replace(/[\x00-\x1F\x7F]/g, '\uFFFD'))}`);
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(url);
  if (!absolute && !url.startsWith('/')) throw invalid(`url must be absolute (https://…) or start with '/' (got ${describeUrl(url)})`);
  if (!absolute && url.startsWith('//')) throw invalid(`url must not start with '//' (a scheme-relative URL names another host): ${describeUrl(url)}`);
  let parsed: URL;
  try {
    parsed = new URL(url, RELATIVE_BASE);
  } catch {
    throw invalid(`url could not be parsed: ${describeUrl(url)}`);
  }
  if (absolute && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(`url must use http or https (got ${parsed.protocol})`);
  const unsafe = unsafePathReason(rawPathOf(url, absolute));

  // The path as the server routes it: nothing decoded (a raw-path router sends `/%64ocs` to
  // another handler than `/docs`), only the hex case of escapes made one, and what a client
  // would send escaped (non-ASCII as UTF-8, spaces) escaped, as the WHATWG parser does.
  const path = parsed.pathname.replace(/%[0-9a-f]{2}/gi, (m) => m.toUpperCase());

  const pairs: [string, string][] = [];
  const tokens: string[] = [];
  const search = parsed.search.slice(1);
  if (search) {
    for (const part of search.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = safeDecode((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      const value = eq === -1 ? '' : safeDecode(part.slice(eq + 1).replace(/\+/g, ' '));
      if (key === options.tokenParam) tokens.push(value);
      else if (!options.exclude?.has(key)) pairs.push([key, value]);
    }
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const query = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  return {
    ...(absolute ? { origin: parsed.origin } : {}),
    canonical: query ? `${path}?${query}` : path,
    tokens,
    ...(unsafe ? { unsafe } : {}),
  };
}

/**
 * Canonicalises a URL for matching: the path as a server routes it, never decoded (`/caf%c3%a9`
 * = `/caf%C3%A9` = `/café`, but `%7E` ≠ `~` and `%2F` ≠ `/`, as a raw-path router sees them), and the
 * query as a sorted multiset of form-decoded pairs (`%2C` = `,`, `+` = `%20`, `a=1&b=2` =
 * `b=2&a=1`, `ids[]=1&ids[]=2` kept as two pairs, `flag` = `flag=`). Pairs whose key is in
 * `exclude` are left out; the values of `tokenParam` are returned in `tokens`. The fragment
 * never reaches a server, so it is ignored.
 *
 * The path is never resolved: a URL whose path holds a dot segment (`.`, `..`, or a
 * percent-encoded form) or a backslash is refused (`invalid_argument`), as is one holding a
 * control character. Error messages quote the URL without its query, so a token never reaches
 * a log through them.
 *
 * @example
 * ```ts
 * canonicalizeUrl('https://x.test/a?b=%2C&a=1+2', { tokenParam: 'token' }).canonical;
 * // '/a?a=1%202&b=%2C'
 * ```
 */
export function canonicalizeUrl(url: string, options: { tokenParam: string; exclude?: ReadonlySet<string> }): CanonicalUrl {
  const { unsafe, ...c } = canonicalize(url, options);
  if (unsafe) throw invalid(`url is not in routable form (${unsafe}): ${describeUrl(url)}`);
  return c;
}

/**
 * Appends `param=token` to a URL without re-encoding anything the caller wrote: the query keeps
 * its order and encoding, the port and the fragment are kept.
 *
 * @example
 * ```ts
 * appendTokenParam('https://x.test:8443/f?id=7#top', 'token', 'tka_…');
 * // 'https://x.test:8443/f?id=7&token=tka_…#top'
 * ```
 */
export function appendTokenParam(url: string, param: string, token: string): string {
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const sep = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${sep}${encode(param)}=${encode(token)}${fragment}`;
}
