// What every plot shares: following its box's size and saving its canvas.

/**
 * Calls `onResize` in the animation frame after `el`'s box changes. Not in the
 * observer's own callback: a plot whose height follows its width would change
 * the observed box there and raise "ResizeObserver loop completed ..." errors.
 * @returns a function that stops observing
 */
export function followSize(el: HTMLElement, onResize: () => void): () => void {
  let frame = 0;
  const observer = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(onResize);
  });
  observer.observe(el);
  return () => {
    observer.disconnect();
    cancelAnimationFrame(frame);
  };
}

/** A canvas as a PNG image (rejects when there is no canvas yet). */
export function canvasToPng(canvas: HTMLCanvasElement | undefined): Promise<Blob> {
  return new Promise((resolve, reject) => {
    if (!canvas) return reject(new Error('nothing drawn yet'));
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas export failed'))), 'image/png');
  });
}
