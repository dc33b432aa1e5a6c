// Live updates for Mortar's web view: every few seconds, ask the status API
// whether anything changed, and if so fetch this page again and swap its
// main content in. Nothing is swapped while the reader is typing in a form.
(function () {
  const main = document.getElementById('live');
  if (!main) return;
  const every = 3000;
  async function look() {
    try {
      const answer = await fetch('/api/v1/apps', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (!answer.ok) return;
      const status = await answer.json();
      if ((status.updated || '') === (main.dataset.updated || '')) return;
      const typing = document.activeElement && main.contains(document.activeElement)
        && document.activeElement.tagName === 'INPUT' && document.activeElement.type === 'text';
      if (typing) return;
      const page = await fetch(location.href, { credentials: 'same-origin' });
      if (!page.ok) return;
      const html = new DOMParser().parseFromString(await page.text(), 'text/html');
      const fresh = html.getElementById('live');
      if (!fresh) return;
      main.innerHTML = fresh.innerHTML;
      main.dataset.updated = fresh.dataset.updated || '';
    } catch (_) {
      // The daemon restarting: try again at the next tick.
    }
  }
  setInterval(look, every);
})();
