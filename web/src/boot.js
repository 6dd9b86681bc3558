// boot.js: runs before the dashboard's bundle (app.js, 0.8 MB to parse): takes the user's token
// from the page's fragment and starts the requests the first render waits for, so that truce
// answers them while the bundle loads (with GET /api/v1/me, who the token belongs to); main.js
// takes the responses from window.truceBoot. Without a token nothing is asked: main.js shows the
// sign-in form.
(() => {
  // the bearer token (docs/dashboard.md): given once in the fragment (#token=...; a fragment is
  // never sent to a server), then kept for the browser tab only
  // (then removed from the address bar); a token given so to the open page loads it again
  const fromFragment = () => {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!m) return false;
    sessionStorage.setItem('truce-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
    return true;
  };
  fromFragment();
  window.addEventListener('hashchange', () => { if (fromFragment()) location.reload(); });
  const token = sessionStorage.getItem('truce-token') || '';
  const get = (url) => fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  // ?view=observations shows the observations even when the server has incidents
  const items = new URLSearchParams(location.search).get('view') === 'observations'
    ? '/api/v1/map/observations' : '/api/v1/map/incidents';
  const pending = {};
  if (token)
    for (const url of ['/api/v1/me', items, '/api/v1/geography', 'geo/ukraine.geojson', '/api/v1/agreements'])
      pending[url] = get(url);
  window.truceBoot = pending;
})();
