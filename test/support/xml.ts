/**
 * A small strict XML parser for tests (the SVG charts): elements, attributes, text, comments and
 * the XML declaration; entities &amp; &lt; &gt; &quot; &apos; and numeric ones. It throws on
 * anything malformed (unclosed or mismatched tags, duplicate attributes, bare `&` or `<`), so a
 * chart that parses here is well-formed XML.
 */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: ReadonlyArray<XmlElement | string>;
}

function decode(text: string, at: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);|&/g, (m, e: string | undefined) => {
    if (e === undefined) throw new Error(`xml: bare & at offset ${at}`);
    if (e.startsWith("#x")) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e] ?? m;
  });
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const skipMisc = () => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i])) i++;
      if (src.startsWith("<?", i)) i = src.indexOf("?>", i) + 2;
      else if (src.startsWith("<!--", i)) i = src.indexOf("-->", i) + 3;
      else return;
      if (i < 2) throw new Error("xml: unterminated declaration or comment");
    }
  };
  const element = (): XmlElement => {
    if (src[i] !== "<") throw new Error(`xml: expected < at offset ${i}`);
    const m = /^<([A-Za-z_][\w:.-]*)/.exec(src.slice(i, i + 200));
    if (!m) throw new Error(`xml: bad tag name at offset ${i}`);
    const name = m[1];
    i += m[0].length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const a = /^\s+([A-Za-z_][\w:.-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(src.slice(i, i + 100_000));
      if (!a) break;
      if (a[1] in attrs) throw new Error(`xml: duplicate attribute ${a[1]} on <${name}>`);
      attrs[a[1]] = decode(a[3] ?? a[4], i);
      i += a[0].length;
    }
    while (/\s/.test(src[i])) i++;
    if (src.startsWith("/>", i)) {
      i += 2;
      return { name, attrs, children: [] };
    }
    if (src[i] !== ">") throw new Error(`xml: malformed <${name}> at offset ${i}`);
    i++;
    const children: Array<XmlElement | string> = [];
    for (;;) {
      if (i >= src.length) throw new Error(`xml: <${name}> is not closed`);
      if (src.startsWith("</", i)) {
        const close = /^<\/([A-Za-z_][\w:.-]*)\s*>/.exec(src.slice(i, i + 200));
        if (!close || close[1] !== name)
          throw new Error(`xml: </${close?.[1] ?? "?"}> closes <${name}> at offset ${i}`);
        i += close[0].length;
        return { name, attrs, children };
      }
      if (src.startsWith("<!--", i)) {
        const end = src.indexOf("-->", i);
        if (end < 0) throw new Error("xml: unterminated comment");
        i = end + 3;
      } else if (src[i] === "<") children.push(element());
      else {
        const end = src.indexOf("<", i);
        const text = src.slice(i, end < 0 ? src.length : end);
        children.push(decode(text, i));
        i = end < 0 ? src.length : end;
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i < src.length) throw new Error(`xml: content after the root element at offset ${i}`);
  return root;
}

/** Every element in document order (the root included). */
export function allElements(e: XmlElement): XmlElement[] {
  const out = [e];
  for (const c of e.children) if (typeof c !== "string") out.push(...allElements(c));
  return out;
}

/** The concatenated text inside an element. */
export function textOf(e: XmlElement): string {
  return e.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** Elements whose class attribute contains `cls`. */
export function byClass(e: XmlElement, cls: string): XmlElement[] {
  return allElements(e).filter((x) => (x.attrs.class ?? "").split(/\s+/).includes(cls));
}
