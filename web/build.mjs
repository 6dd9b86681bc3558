// build.mjs: builds the dashboard into dist/ (served by `truce serve`): bundles src/boot.js,
// src/main.js and src/public.js with esbuild (MapLibre GL JS from node_modules), copies the HTML,
// the CSS and the Ukraine outline from ../data/geo. No file is fetched from the network at run time.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'geo'), { recursive: true });

await esbuild.build({
  entryPoints: { boot: join(here, 'src/boot.js'), app: join(here, 'src/main.js'), public: join(here, 'src/public.js') },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',
  target: ['chrome100', 'firefox100'],
  outdir: dist,
  logLevel: 'warning',
});

for (const f of ['index.html', 'public.html', 'style.css'])
  copyFileSync(join(here, 'src', f), join(dist, f));
copyFileSync(join(here, 'node_modules/maplibre-gl/dist/maplibre-gl.css'), join(dist, 'maplibre-gl.css'));
copyFileSync(join(here, '../data/geo/ukraine.geojson'), join(dist, 'geo/ukraine.geojson'));
console.log('web: built', dist);
