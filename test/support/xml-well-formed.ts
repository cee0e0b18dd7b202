// Well-formedness of the SVG and HTML the reports write, judged by a real XML parser (Python's
// expat, through the standard library's ElementTree) rather than by patterns: an unclosed element,
// an unescaped `&` or `<` in a step name, a bad attribute all fail the parse.
import { execFileSync } from 'node:child_process';

const PARSE = [
  'import sys, xml.etree.ElementTree as ET',
  'root = ET.fromstring(sys.stdin.buffer.read())',
  'print(root.tag)',
].join('\n');

/**
 * Parses `text` as XML; returns the root element's tag (with its namespace, e.g.
 * `{http://www.w3.org/2000/svg}svg`), or throws with the parser's message (line and column).
 */
export function parseXmlRoot(text: string): string {
  try {
    return execFileSync('python3', ['-c', PARSE], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').pop();
    throw new Error(`not well-formed XML: ${stderr}`);
  }
}
