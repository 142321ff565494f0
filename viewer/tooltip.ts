/** The one floating tooltip (#tooltip): lines of text near the pointer, kept inside the window. */
const el = () => document.getElementById('tooltip') as HTMLDivElement;

export function showTooltip(clientX: number, clientY: number, lines: string[]): void {
  const t = el();
  t.replaceChildren(
    ...lines.map((line, i) => {
      const div = document.createElement('div');
      div.textContent = line;
      if (i === 0) div.className = 'tt-title';
      return div;
    }),
  );
  t.hidden = false;
  const pad = 12;
  const w = t.offsetWidth;
  const h = t.offsetHeight;
  const x = clientX + pad + w > window.innerWidth ? clientX - pad - w : clientX + pad;
  const y = clientY + pad + h > window.innerHeight ? clientY - pad - h : clientY + pad;
  t.style.left = `${Math.max(0, x)}px`;
  t.style.top = `${Math.max(0, y)}px`;
}

export function hideTooltip(): void {
  el().hidden = true;
}
