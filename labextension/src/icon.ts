/** The sidebar's icon, a LabIcon so that it follows the theme's icon colour. */
import { LabIcon } from '@jupyterlab/ui-components';

const ATOM_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="none" stroke="#616161" stroke-width="1.6">
    <ellipse cx="12" cy="12" rx="10" ry="4"/>
    <ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(60 12 12)"/>
    <ellipse cx="12" cy="12" rx="10" ry="4" transform="rotate(120 12 12)"/>
  </g>
  <circle class="jp-icon3" fill="#616161" cx="12" cy="12" r="2"/>
</svg>`;

export const runtimeIcon = new LabIcon({ name: 'qrt_jupyter:runtime', svgstr: ATOM_SVG });
