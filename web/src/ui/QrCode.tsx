import { useMemo } from "preact/hooks";
import { renderSVG } from "uqr";

/** `text` as a QR code (medium error correction), drawn as SVG. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const svg = useMemo(() => renderSVG(text, { ecc: "M", border: 2 }), [text]);
  return (
    // biome-ignore lint/security/noDangerouslySetInnerHtml: the SVG is made here from the code, not taken from anywhere
    <div class="qr" role="img" aria-label={label} dangerouslySetInnerHTML={{ __html: svg }} />
  );
}
