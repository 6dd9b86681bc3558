// colours.js: the colours of event types and parties (the same as src/report/report_html.c).
export const TYPE_COLOURS = {
  undetermined_explosion: '#d62728', impact: '#8c1c13', airburst: '#ff7f0e', outgoing: '#9467bd',
  projectile_in_flight: '#e377c2', illumination_flare: '#bcbd22', muzzle_flash: '#17becf',
  burst: '#1f77b4', shot: '#2ca02c',
};
export const OTHER_COLOUR = '#555555';
export const PARTY_PALETTE = ['#1f5fbf', '#c0392b', '#8e44ad', '#16a085', '#d35400'];
export const UNDETERMINED_COLOUR = '#8a8a8a';
