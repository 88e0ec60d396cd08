import { useMemo } from "preact/hooks";
import { renderSVG } from "uqr";

/** `text` as a QR code (medium error correction), drawn as SVG made here from the text. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const svg = useMemo(() => renderSVG(text, { ecc: "M", border: 2 }), [text]);
  return <div class="qr" role="img" aria-label={label} dangerouslySetInnerHTML={{ __html: svg }} />;
}
