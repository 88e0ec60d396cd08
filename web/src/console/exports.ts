/** The `next` cursor a `Link: <…?next=…>; rel="next"` header names, if any. */
export function nextCursor(link: string | null): string | undefined {
  if (!link) return undefined;
  const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  if (!m?.[1]) return undefined;
  const next = new URL(m[1], "http://link.invalid").searchParams.get("next");
  return next ?? undefined;
}

/** Reads an export page by page (`page(cursor)` answers one page's text and its `Link`), then
 *  joins them: the header row comes with the first page only. */
export async function allPages(
  page: (next: string | undefined) => Promise<{ text: string; link: string | null }>,
): Promise<string> {
  const parts: string[] = [];
  let next: string | undefined;
  do {
    const { text, link } = await page(next);
    parts.push(text.endsWith("\n") || text === "" ? text : `${text}\n`);
    next = nextCursor(link);
  } while (next);
  return parts.join("");
}

/** Hands `text` to the browser as a file download. */
export function saveFile(text: string, filename: string, type = "text/csv;charset=utf-8"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
