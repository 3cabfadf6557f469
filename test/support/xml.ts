/**
 * A strict, small XML 1.0 parser for tests that must read a document as XML rather than as
 * text (no XML library is a dependency): well-formedness (one root, matched tags, quoted and
 * unique attributes, only the predefined and numeric character references, no `<` or bare `&`
 * in text), and namespaces resolved (xmlns, xmlns:p, the xml prefix). Any fault throws.
 */
export interface XmlElement {
  /** The namespace URI, or null when the element is in no namespace. */
  ns: string | null;
  local: string;
  /** Attributes by qualified name as written (`rel`, `xml:lang`), values decoded. */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (character data of its direct children), decoded. */
  text: string;
}

const NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?$/;
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

function decode(raw: string, at: number): string {
  if (raw.includes('<')) throw new Error(`'<' in character data near ${String(at)}`);
  return raw.replace(
    /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);|&/g,
    (m, ref: string | undefined) => {
      if (ref === undefined) throw new Error(`bare '&' near ${String(at)}`);
      const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
      if (ref in named) return named[ref] as string;
      const num = /^#x([0-9a-fA-F]+)$/.exec(ref) ?? /^#([0-9]+)$/.exec(ref);
      if (!num?.[1]) throw new Error(`unknown entity ${m} near ${String(at)}`);
      return String.fromCodePoint(parseInt(num[1], ref.startsWith('#x') ? 16 : 10));
    },
  );
}

export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${String(i)}`);
  };
  // The declaration, if any, comes first, with nothing before it.
  if (source.startsWith('<?xml')) {
    const end = source.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    const decl = source.slice(0, end);
    if (
      !/^<\?xml\s+version="1\.[0-9]"(\s+encoding="[A-Za-z][\w.-]*")?(\s+standalone="(yes|no)")?\s*$/.test(
        decl,
      )
    )
      fail('malformed XML declaration');
    i = end + 2;
  }
  const skipMisc = () => {
    for (;;) {
      const ws = /^\s*/.exec(source.slice(i))?.[0] ?? '';
      i += ws.length;
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i + 4);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (source.startsWith('<?', i)) {
        const end = source.indexOf('?>', i);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else return;
    }
  };

  const element = (scope: Record<string, string | null>): XmlElement => {
    const open = /^<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(
      source.slice(i),
    );
    if (!open) return fail('malformed start tag');
    const [whole, qname = '', attrText = '', selfClosing] = open;
    if (!NAME.test(qname)) fail(`bad element name ${qname}`);
    const attrs: Record<string, string> = {};
    for (const m of attrText.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      const name = m[1] ?? '';
      if (!NAME.test(name)) fail(`bad attribute name ${name}`);
      if (name in attrs) fail(`duplicate attribute ${name}`);
      attrs[name] = decode(m[2] ?? m[3] ?? '', i);
    }
    const inner: Record<string, string | null> = { ...scope };
    for (const [name, value] of Object.entries(attrs)) {
      if (name === 'xmlns') inner[''] = value === '' ? null : value;
      else if (name.startsWith('xmlns:')) inner[name.slice(6)] = value;
    }
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    const local = qname.slice(colon + 1);
    if (prefix !== '' && !(prefix in inner)) fail(`undeclared prefix ${prefix}`);
    const el: XmlElement = {
      ns: inner[prefix] ?? null,
      local,
      attrs,
      children: [],
      text: '',
    };
    i += whole.length;
    if (selfClosing) return el;
    for (;;) {
      const next = source.indexOf('<', i);
      if (next < 0) fail(`unclosed <${qname}>`);
      el.text += decode(source.slice(i, next), i);
      i = next;
      if (source.startsWith('</', i)) {
        const close = /^<\/([^\s>]+)\s*>/.exec(source.slice(i));
        if (!close || close[1] !== qname) return fail(`</${close?.[1] ?? '?'}> closes <${qname}>`);
        i += close[0].length;
        return el;
      }
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i + 4);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (source.startsWith('<![CDATA[', i)) {
        const end = source.indexOf(']]>', i);
        if (end < 0) fail('unterminated CDATA');
        el.text += source.slice(i + 9, end);
        i = end + 3;
      } else if (source.startsWith('<?', i)) {
        const end = source.indexOf('?>', i);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else {
        el.children.push(element(inner));
      }
    }
  };

  skipMisc();
  if (source.startsWith('<!DOCTYPE', i)) fail('a DOCTYPE (not allowed here)');
  const root = element({ xml: XML_NS });
  skipMisc();
  if (i !== source.length) fail('content after the root element');
  return root;
}
