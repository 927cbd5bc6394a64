/**
 * The small markdown subset experiment reports are written in, turned into HTML for report.html:
 * headings (#…####), paragraphs, block quotes, bullet lists, pipe tables, fenced code blocks, and
 * inline `code`, **bold** and *italic*. Anything else is shown as text (escaped), never dropped.
 */
import { escapeXml } from "../charts/svg-chart.js";

function inline(text: string): string {
  const parts = text.split(/(`[^`]+`)/);
  return parts
    .map((p) => {
      if (p.startsWith("`") && p.endsWith("`") && p.length > 1)
        return `<code>${escapeXml(p.slice(1, -1))}</code>`;
      return escapeXml(p)
        .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>");
    })
    .join("");
}

function tableRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split("|")
    .map((c) => c.trim());
}

export function markdownToHtml(md: string): string {
  const lines = md.split("\n");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") {
      i++;
      continue;
    }
    if (line.startsWith("```")) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].startsWith("```")) body.push(lines[i++]);
      i++;
      out.push(`<pre><code>${escapeXml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (line.trim().startsWith("|") && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) {
      const head = tableRow(line);
      const align = tableRow(lines[i + 1]).map((c) => (c.endsWith(":") ? ' style="text-align:right"' : ""));
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].trim().startsWith("|")) rows.push(tableRow(lines[i++]));
      out.push(
        `<table><thead><tr>${head.map((h, j) => `<th${align[j] ?? ""}>${inline(h)}</th>`).join("")}</tr></thead><tbody>` +
          rows
            .map((r) => `<tr>${r.map((c, j) => `<td${align[j] ?? ""}>${inline(c)}</td>`).join("")}</tr>`)
            .join("") +
          `</tbody></table>`,
      );
      continue;
    }
    if (/^\s*[-*] /.test(line)) {
      const items: string[] = [];
      while (i < lines.length && lines[i].trim() !== "" && !lines[i].startsWith("```")) {
        if (/^\s*[-*] /.test(lines[i])) items.push(lines[i].replace(/^\s*[-*] /, ""));
        else items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      out.push(`<ul>${items.map((t) => `<li>${inline(t)}</li>`).join("")}</ul>`);
      continue;
    }
    const quote = line.startsWith(">");
    const para: string[] = [];
    while (
      i < lines.length &&
      lines[i].trim() !== "" &&
      !lines[i].startsWith("```") &&
      !/^#{1,4}\s/.test(lines[i]) &&
      lines[i].startsWith(">") === quote &&
      !(para.length > 0 && /^\s*[-*] /.test(lines[i]))
    )
      para.push(quote ? lines[i++].replace(/^>\s?/, "") : lines[i++]);
    const html = `<p>${inline(para.join(" "))}</p>`;
    out.push(quote ? `<blockquote>${html}</blockquote>` : html);
  }
  return out.join("\n");
}
