import { LabIcon } from '@jupyterlab/ui-components';

/** A crescent moon with a small "z": thinking while the kernel sleeps. */
const moonSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="M20.5 14.2A8.8 8.8 0 1 1 9.8 3.5a7 7 0 0 0 10.7 10.7z"/>
  <path class="jp-icon3" fill="#616161" d="M15 2.5h5v1.4l-3.1 3.4H20v1.4h-5V7.3l3.1-3.4H15z"/>
</svg>`;

export const sleeptimeIcon = new LabIcon({
  name: 'jupyter-sleeptime:moon',
  svgstr: moonSvg
});
