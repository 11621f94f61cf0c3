// Chart.js, registered once with what the views draw; every chart has a text label for screen
// readers (and the views put the numbers in a table beside it), no animation.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, sans-serif';

/** Colours that stay apart for common colour-vision deficiencies (Okabe–Ito). */
export const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

const live = new Map();

/**
 * A chart in a new `<figure>`: `label` is what a screen reader hears, `caption` what everyone
 * reads. Re-rendering a view with the same `id` frees the old chart.
 */
export function chart(id, config, { label, caption, small = false }) {
  live.get(id)?.destroy();
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  const box = document.createElement('div');
  box.className = small ? 'chart small' : 'chart';
  box.append(canvas);
  const figure = document.createElement('figure');
  figure.id = id;
  if (caption) {
    const cap = document.createElement('figcaption');
    cap.textContent = caption;
    figure.append(cap);
  }
  figure.append(box);
  // Chart.js sizes the canvas from its box, which must be in the document first.
  queueMicrotask(() => {
    if (!figure.isConnected) return;
    live.set(id, new Chart(canvas, config));
  });
  return figure;
}

/** A plugin drawing a vertical line at `x` (scale units) with a label: "now". */
export function markX(x, text, color = '#cf222e') {
  return {
    id: `mark-${text}`,
    afterDatasetsDraw(c) {
      const scale = c.scales.x;
      const px = scale.getPixelForValue(x);
      if (px < c.chartArea.left || px > c.chartArea.right) return;
      const ctx = c.ctx;
      ctx.save();
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 3]);
      ctx.beginPath();
      ctx.moveTo(px, c.chartArea.top);
      ctx.lineTo(px, c.chartArea.bottom);
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.font = 'bold 12px system-ui, sans-serif';
      ctx.fillText(text, px + 4, c.chartArea.top + 12);
      ctx.restore();
    },
  };
}
