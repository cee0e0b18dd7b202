// Well-formedness of the SVG and HTML the reports write, judged by a real XML parser (fast-xml-parser's
// validator) rather than by patterns: an unclosed element, an unescaped `&` or `<` in a step name, a bad
// attribute all fail the parse.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** HTML's void elements, which marked writes unclosed (`<br>`, `<input ...>`); every other element must close. */
const HTML_VOID = ['br', 'hr', 'img', 'input', 'meta', 'link'];

/**
 * Parses `text` as XML (with `html`: HTML's void elements may stay unclosed and attributes may have no
 * value, as in `<input checked disabled>`); returns the root element's name, or throws with the
 * validator's message (line and column).
 */
export function parseXmlRoot(text: string, options: { html?: boolean } = {}): string {
  const validation = XMLValidator.validate(text, options.html ? { unpairedTags: HTML_VOID, allowBooleanAttributes: true } : {});
  if (validation !== true) throw new Error(`not well-formed XML: ${validation.err.msg} (line ${validation.err.line}, column ${validation.err.col})`);
  const parsed = new XMLParser({ ignoreDeclaration: true, ignoreAttributes: true, ...(options.html ? { unpairedTags: HTML_VOID } : {}) }).parse(text) as Record<string, unknown>;
  const root = Object.keys(parsed).find((k) => !k.startsWith('?') && !k.startsWith('!'));
  if (!root) throw new Error('not well-formed XML: no root element');
  return root;
}
