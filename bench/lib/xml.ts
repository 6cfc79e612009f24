// Text safe inside the SVGs the bench writes.

/** Escapes the three characters that would end an XML text node early. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
